import { packageVitestConfig } from './vitest.shared';

export default packageVitestConfig({ include: ['test/**/*.test.ts'] });
