/** The pure stream-processing core: no AWS imports here (see docs/architecture.md). */

export { type CompiledProfile, compileProfile, fromFixed, toFixed } from './compiled-profile';
export * from './decode';
export * from './flush';
export * from './ingest';
export * from './kpl';
export * from './minute-aggregate';
export * from './profiles';
export * from './reasons';
export * from './time';
export * from './window';
