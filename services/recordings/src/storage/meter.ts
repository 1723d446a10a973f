import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AppError } from '@cz/common';

export interface MeterOptions {
  /** most plaintext bytes accepted; one more is a 413 */
  limit: number;
  /** the Content-Length the client announced: fewer bytes at the end is a truncated upload */
  expectedLength?: number;
  /** checks the first `sniffBytes` bytes (or the whole body if shorter) against the declared type */
  sniff?: { bytes: number; matches: (head: Buffer) => boolean; declared: string };
  /** media: md5 of the plaintext the sender computed; a mismatch fails the stream unless `keepMismatch` */
  expectedMd5?: string;
  keepMismatch?: boolean;
  /**
   * SM3 digests of the versions already stored for the owner: a body with one of them ends the
   * stream with {@link KnownContent}, before the object store completes anything
   */
  knownSm3?: readonly string[];
}

/** The upload is byte for byte a version already stored: nothing new to keep. */
export class KnownContent extends Error {
  constructor(readonly sm3: string) {
    super(`identical to a stored version (sm3 ${sm3})`);
  }
}

/**
 * Sits between the client and the sealing stream: counts and hashes (SM3, MD5) the plaintext as
 * it passes, enforces the size limit, checks the body starts like its declared type, and at the
 * end refuses a body shorter than announced or with the wrong MD5. Failing here fails the
 * whole pipeline before the object store completes anything, so no partial object is ever made.
 */
export class PlaintextMeter extends Transform {
  bytes = 0;
  sm3Hex = '';
  md5Hex = '';
  private readonly sm3: Hash = createHash('sm3');
  private readonly md5: Hash = createHash('md5');
  private head: Buffer[] = [];
  private headBytes = 0;
  private sniffed: boolean;

  constructor(private readonly options: MeterOptions) {
    super();
    this.sniffed = options.sniff === undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.options.limit) {
      callback(new AppError(413, 'too_large', `the upload exceeds the limit of ${this.options.limit} bytes`));
      return;
    }
    if (!this.sniffed) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      if (this.headBytes >= this.options.sniff!.bytes) {
        const failure = this.checkSniff();
        if (failure) {
          callback(failure);
          return;
        }
      }
    }
    this.sm3.update(chunk);
    this.md5.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes === 0) {
      callback(new AppError(400, 'empty_upload', 'the upload has no content'));
      return;
    }
    const { expectedLength, expectedMd5 } = this.options;
    if (expectedLength !== undefined && this.bytes !== expectedLength) {
      callback(
        new AppError(
          400,
          'truncated_upload',
          `received ${this.bytes} of the ${expectedLength} bytes announced by Content-Length`,
        ),
      );
      return;
    }
    const failure = this.sniffed ? undefined : this.checkSniff();
    if (failure) {
      callback(failure);
      return;
    }
    this.sm3Hex = this.sm3.digest('hex');
    this.md5Hex = this.md5.digest('hex');
    if (expectedMd5 !== undefined && expectedMd5 !== this.md5Hex && !this.options.keepMismatch) {
      callback(
        new AppError(
          422,
          'md5_mismatch',
          `the content's md5 is ${this.md5Hex} but x-cz-md5 says ${expectedMd5}; nothing was stored`,
        ),
      );
      return;
    }
    if (this.options.knownSm3?.includes(this.sm3Hex)) {
      callback(new KnownContent(this.sm3Hex));
      return;
    }
    callback();
  }

  private checkSniff(): AppError | undefined {
    const sniff = this.options.sniff!;
    this.sniffed = true;
    const head = Buffer.concat(this.head).subarray(0, sniff.bytes);
    this.head = [];
    if (sniff.matches(head)) return undefined;
    return new AppError(
      415,
      'content_mismatch',
      `the body does not look like ${sniff.declared} (declared by Content-Type)`,
    );
  }
}
