import { packageTsupConfig } from '../../tooling/tsup.shared';

export default packageTsupConfig();
