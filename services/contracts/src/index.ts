export * from './common';
export * from './wecom';
export * from './events';
export * from './portal';
export * from './keys';
