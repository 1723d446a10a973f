export * from './common';
export * from './wecom';
export * from './wecom-types';
export * from './events';
export * from './portal';
export * from './alerts';
export * from './puller';
export * from './keys';
