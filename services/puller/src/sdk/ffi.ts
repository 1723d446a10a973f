/**
 * Binding of Tencent's Finance SDK C ABI (WeWorkFinanceSdk_C.h) through koffi. Loaded ONLY in the
 * sandbox child (sdk/child.ts): a segfault inside the bank-supplied library must take down that
 * child, never the service.
 *
 * Binary safety: every buffer the SDK returns (chat JSON, decrypted messages, media chunks, media
 * index) is read as `len` raw bytes through the Get*Len accessors and copied into a Buffer before
 * the C memory is freed; nothing is decoded as a NUL-terminated C string.
 */
import koffi from 'koffi';

/** Error codes documented in WeWorkFinanceSdk_C.h. */
export const SdkErrors: Readonly<Record<number, string>> = {
  10000: 'parameter error',
  10001: 'network error',
  10002: 'data parse failure',
  10003: 'system failure',
  10004: 'key error, encryption failed',
  10005: 'fileid error',
  10006: 'decryption failed',
  10007: 'no private key for the message encryption version',
  10008: 'encrypt_key could not be parsed',
  10009: 'IP not allowed',
  10010: 'data expired',
  10011: 'certificate error',
};

export class SdkCallError extends Error {
  constructor(
    readonly fn: string,
    readonly rc: number,
  ) {
    super(`${fn} returned ${rc}${SdkErrors[rc] ? ` (${SdkErrors[rc]})` : ''}`);
  }
}

export interface MediaChunk {
  data: Buffer;
  /** opaque index of the next chunk, passed back byte for byte */
  outIndex: Buffer;
  finished: boolean;
}

export interface FinanceSdk {
  init(corpId: string, secret: string): void;
  /** raw chatdata JSON bytes of one GetChatData call (records with seq > `seq`) */
  getChatData(seq: number, limit: number, proxy: string, passwd: string, timeoutSec: number): Buffer;
  /** DecryptData(encrypt_key, encrypt_msg) → plaintext bytes; the key as NUL-terminated bytes */
  decryptData(randomKey: Buffer, encryptChatMsg: string): Buffer;
  /** one GetMediaData call: the chunk after `indexBuf` (empty for the first) */
  getMediaData(
    indexBuf: Buffer,
    sdkFileId: string,
    proxy: string,
    passwd: string,
    timeoutSec: number,
  ): MediaChunk;
  destroy(): void;
}

type Ptr = bigint | null;

/** Copies `len` bytes at `ptr` out of C memory (the caller frees the C side afterwards). */
function copyOut(ptr: Ptr, len: number): Buffer {
  if (len <= 0 || ptr === null || ptr === 0n) return Buffer.alloc(0);
  const out = Buffer.allocUnsafe(len);
  Buffer.from(koffi.view(ptr, len)).copy(out);
  return out;
}

export function loadFinanceSdk(libraryPath: string): FinanceSdk {
  const lib = koffi.load(libraryPath);
  // Opaque handles: the caller never looks inside; accessors read the struct fields.
  koffi.opaque('WeWorkFinanceSdk_t');
  koffi.opaque('Slice_t');
  koffi.opaque('MediaData_t');
  const NewSdk = lib.func('WeWorkFinanceSdk_t *NewSdk()');
  const Init = lib.func('int Init(WeWorkFinanceSdk_t *sdk, const char *corpid, const char *secret)');
  const GetChatData = lib.func(
    'int GetChatData(WeWorkFinanceSdk_t *sdk, unsigned long long seq, unsigned int limit, const char *proxy, const char *passwd, int timeout, Slice_t *chatDatas)',
  );
  const DecryptData = lib.func(
    'int DecryptData(const char *encrypt_key, const char *encrypt_msg, Slice_t *msg)',
  );
  const GetMediaData = lib.func(
    'int GetMediaData(WeWorkFinanceSdk_t *sdk, const char *indexbuf, const char *sdkFileid, const char *proxy, const char *passwd, int timeout, MediaData_t *media_data)',
  );
  const DestroySdk = lib.func('void DestroySdk(WeWorkFinanceSdk_t *sdk)');
  const NewSlice = lib.func('Slice_t *NewSlice()');
  const FreeSlice = lib.func('void FreeSlice(Slice_t *slice)');
  // declared as void* (not char*) so that koffi hands back the address, not a NUL-terminated string
  const GetContentFromSlice = lib.func('void *GetContentFromSlice(Slice_t *slice)');
  const GetSliceLen = lib.func('int GetSliceLen(Slice_t *slice)');
  const NewMediaData = lib.func('MediaData_t *NewMediaData()');
  const FreeMediaData = lib.func('void FreeMediaData(MediaData_t *media_data)');
  const GetOutIndexBuf = lib.func('void *GetOutIndexBuf(MediaData_t *media_data)');
  const GetData = lib.func('void *GetData(MediaData_t *media_data)');
  const GetIndexLen = lib.func('int GetIndexLen(MediaData_t *media_data)');
  const GetDataLen = lib.func('int GetDataLen(MediaData_t *media_data)');
  const IsMediaDataFinish = lib.func('int IsMediaDataFinish(MediaData_t *media_data)');

  const sdk = NewSdk() as Ptr;
  if (sdk === null || sdk === 0n) throw new Error('NewSdk returned NULL');

  const withSlice = (fn: string, call: (slice: Ptr) => number): Buffer => {
    const slice = NewSlice() as Ptr;
    if (slice === null || slice === 0n) throw new Error('NewSlice returned NULL');
    try {
      const rc = call(slice);
      if (rc !== 0) throw new SdkCallError(fn, rc);
      return copyOut(GetContentFromSlice(slice) as Ptr, GetSliceLen(slice) as number);
    } finally {
      FreeSlice(slice);
    }
  };

  return {
    init(corpId, secret) {
      const rc = Init(sdk, corpId, secret) as number;
      if (rc !== 0) throw new SdkCallError('Init', rc);
    },
    getChatData(seq, limit, proxy, passwd, timeoutSec) {
      return withSlice(
        'GetChatData',
        (slice) => GetChatData(sdk, BigInt(seq), limit, proxy, passwd, timeoutSec, slice) as number,
      );
    },
    decryptData(randomKey, encryptChatMsg) {
      return withSlice('DecryptData', (slice) => DecryptData(randomKey, encryptChatMsg, slice) as number);
    },
    getMediaData(indexBuf, sdkFileId, proxy, passwd, timeoutSec) {
      const media = NewMediaData() as Ptr;
      if (media === null || media === 0n) throw new Error('NewMediaData returned NULL');
      try {
        // the index goes back as the exact bytes the SDK gave, NUL-terminated (it is a C string)
        const index = indexBuf.length === 0 ? '' : Buffer.concat([indexBuf, Buffer.alloc(1)]);
        const rc = GetMediaData(sdk, index, sdkFileId, proxy, passwd, timeoutSec, media) as number;
        if (rc !== 0) throw new SdkCallError('GetMediaData', rc);
        return {
          data: copyOut(GetData(media) as Ptr, GetDataLen(media) as number),
          outIndex: copyOut(GetOutIndexBuf(media) as Ptr, GetIndexLen(media) as number),
          finished: (IsMediaDataFinish(media) as number) !== 0,
        };
      } finally {
        FreeMediaData(media);
      }
    },
    destroy() {
      DestroySdk(sdk);
    },
  };
}
