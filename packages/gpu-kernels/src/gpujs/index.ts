// Placeholder created by the registry engineer so the registry compiles; the gpu.js engineer owns this file.
// Convention: export function registerGpujsBackends(register: typeof registerBackend): void
export {};
