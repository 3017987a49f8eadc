export * from './named-queries';
export * from './query-params';
export * from './registry-table';
export * from './tables';
