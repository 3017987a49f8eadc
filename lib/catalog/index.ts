export * from './named-queries';
export * from './query-params';
export * from './tables';
