export * from './errors';
export * from './primitives';
export * from './keywrap';
export * from './keys';
export * from './sealed-header';
export * from './sealed-layout';
export * from './sealed';
export * from './sealed-v2';
export * from './binding';
export * from './stream';
export * from './blind-index';
export {
  SM2_DEFAULT_USER_ID,
  sm2GenerateKeyPair,
  sm2PublicKeyFromPrivate,
  sm2Sign,
  sm2Verify,
  encodeSignatureDer,
  decodeSignatureDer,
} from './sm2';
