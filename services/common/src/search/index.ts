export * from './text';
export * from './query';
export * from './hasher';
export * from './kinds';
