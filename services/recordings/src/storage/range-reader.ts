import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Client } from 'minio';
import {
  CryptoError,
  objectBinding,
  openParsedHeader,
  openSegment,
  parseSealedHeader,
  sealedLayout,
  sealedRangeFor,
  segmentSpan,
  SEALED_TAG_BYTES,
  type KeyProvider,
  type OpenedSealedHeader,
  type SealedLayout,
  type SealedRange,
  type SegmentSpan,
} from '@cz/common/crypto';

/**
 * Turns the sealed bytes of whole segments [range.sealedStart, range.sealedEnd) into exactly the
 * requested plaintext: each segment is authenticated before any of its bytes leave, one segment
 * in memory at a time. A source that ends early is an error, never a short success.
 */
class SegmentOpener extends Transform {
  private index: number;
  private span: SegmentSpan;
  private readonly carry: Buffer;
  private fill = 0;
  private skip: number;
  private remaining: number;

  constructor(
    private readonly opened: OpenedSealedHeader,
    private readonly layout: SealedLayout,
    private readonly range: SealedRange,
  ) {
    super();
    this.index = range.firstSegment;
    this.span = segmentSpan(layout, this.index);
    this.carry = Buffer.allocUnsafe(layout.segmentSize + SEALED_TAG_BYTES);
    this.skip = range.skip;
    this.remaining = range.length;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let offset = 0;
      while (offset < chunk.length) {
        if (this.index > this.range.lastSegment)
          throw new CryptoError('trailing_data', 'more bytes than the range');
        const length = this.span.sealedEnd - this.span.sealedStart;
        const need = length - this.fill;
        if (this.fill === 0 && chunk.length - offset >= length) {
          this.openNext(chunk.subarray(offset, offset + length));
          offset += length;
          continue;
        }
        const take = Math.min(need, chunk.length - offset);
        chunk.copy(this.carry, this.fill, offset, offset + take);
        this.fill += take;
        offset += take;
        if (this.fill === length) {
          this.fill = 0;
          this.openNext(this.carry.subarray(0, length));
        }
      }
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  private openNext(segment: Buffer): void {
    let plaintext = openSegment(this.opened, this.index, this.span.last, segment);
    if (this.skip > 0) {
      plaintext = plaintext.subarray(this.skip);
      this.skip = 0;
    }
    if (plaintext.length > this.remaining) plaintext = plaintext.subarray(0, this.remaining);
    this.remaining -= plaintext.length;
    if (plaintext.length > 0) this.push(plaintext);
    this.index += 1;
    if (this.index <= this.range.lastSegment) this.span = segmentSpan(this.layout, this.index);
  }

  override _flush(callback: TransformCallback): void {
    if (this.remaining > 0 || this.fill > 0) {
      callback(new CryptoError('truncated', `the stored object ended ${this.remaining} bytes early`));
      return;
    }
    callback();
  }
}

export interface StoredObjectRef {
  bucket: string;
  key: string;
  versionId: string;
  /** the sealed header as kept in the database */
  sealedHeader: Buffer;
  plaintextSize: number;
}

/**
 * Opens plaintext bytes [start, end) of a sealed object: reads only the segments that cover them
 * (one ranged GET of that exact object version) and decrypts only those.
 */
export async function openPlaintextRange(
  client: Client,
  keys: KeyProvider,
  object: StoredObjectRef,
  start: number,
  end: number,
): Promise<Readable> {
  const header = parseSealedHeader(object.sealedHeader);
  // bound objects open only under their own key (older, unbound ones ignore it)
  const opened = await openParsedHeader(header, object.sealedHeader, keys, objectBinding(object.key));
  const layout = sealedLayout(header, object.plaintextSize);
  const range = sealedRangeFor(layout, start, end);
  const source = await client.getPartialObject(
    object.bucket,
    object.key,
    range.sealedStart,
    range.sealedEnd - range.sealedStart,
    { versionId: object.versionId },
  );
  // pipeline destroys the object-store response when the reader is destroyed (client went away)
  return pipeline(source, new SegmentOpener(opened, layout, range), () => undefined);
}
