import { Transform, type TransformCallback } from 'node:stream';
import { CryptoError } from './errors';
import type { SealBinding } from './binding';
import type { DataClass, KeyProvider } from './keys';
import { beginSealedObject, openParsedHeader, type SealOptions, type SegmentCrypto } from './sealed';
import { SEALED_TAG_BYTES, tryParseSealedHeader } from './sealed-header';

/*
 * Both transforms work segment by segment with one reused carry buffer, so memory stays at about
 * one segment plus whatever chunk the source hands in. A segment can only be processed once it is
 * known whether more data follows (the last flag is part of its IV and tag), so one full segment
 * is held back until the next byte or the end arrives. Segments lying wholly inside an incoming
 * chunk, with more bytes after them, are processed in place without copying.
 * Node's Transform applies backpressure: `_transform` is not called again while the readable
 * side is above its high-water mark.
 */

/** Splits a byte stream into units of `unit` bytes, telling each unit whether it is the final one. */
class UnitSplitter {
  private readonly carry: Buffer;
  private carryLength = 0;

  constructor(
    private readonly unit: number,
    private readonly emit: (unit: Buffer, last: boolean) => void,
  ) {
    this.carry = Buffer.allocUnsafe(unit);
  }

  write(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.carryLength === this.unit) {
        this.emit(this.carry, false);
        this.carryLength = 0;
      }
      if (this.carryLength === 0 && chunk.length - offset > this.unit) {
        this.emit(chunk.subarray(offset, offset + this.unit), false);
        offset += this.unit;
        continue;
      }
      const take = Math.min(this.unit - this.carryLength, chunk.length - offset);
      chunk.copy(this.carry, this.carryLength, offset, offset + take);
      this.carryLength += take;
      offset += take;
    }
  }

  end(): void {
    this.emit(this.carry.subarray(0, this.carryLength), true);
    this.carryLength = 0;
  }
}

class SealTransform extends Transform {
  private segments: SegmentCrypto | undefined;
  private splitter: UnitSplitter | undefined;
  private index = 0;

  constructor(
    private readonly keys: KeyProvider,
    private readonly dataClass: DataClass,
    private readonly options: SealOptions,
  ) {
    super();
  }

  override _construct(callback: (error?: Error | null) => void): void {
    beginSealedObject(this.keys, this.dataClass, this.options).then(({ header, segments, segmentSize }) => {
      this.segments = segments;
      this.splitter = new UnitSplitter(segmentSize, (plaintext, last) => this.sealSegment(plaintext, last));
      this.push(header);
      callback();
    }, callback);
  }

  private sealSegment(plaintext: Buffer, last: boolean): void {
    const { ciphertext, tag } = this.segments!.seal(this.index++, last, plaintext);
    if (ciphertext.length > 0) this.push(ciphertext);
    this.push(tag);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.splitter!.write(chunk);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.splitter!.end();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }
}

class OpenTransform extends Transform {
  private headerBytes: Buffer = Buffer.alloc(0);
  private splitter: UnitSplitter | undefined;
  private segments: SegmentCrypto | undefined;
  private index = 0;

  constructor(
    private readonly keys: KeyProvider,
    private readonly expected?: SealBinding,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.splitter) {
      this.body(chunk, callback);
      return;
    }
    try {
      this.headerBytes = this.headerBytes.length === 0 ? chunk : Buffer.concat([this.headerBytes, chunk]);
      const header = tryParseSealedHeader(this.headerBytes);
      if (!header) {
        callback();
        return;
      }
      const rest = this.headerBytes.subarray(header.headerLength);
      openParsedHeader(header, this.headerBytes, this.keys, this.expected).then(({ segments }) => {
        this.segments = segments;
        this.splitter = new UnitSplitter(header.segmentSize + SEALED_TAG_BYTES, (segment, last) =>
          this.openSegment(segment, last),
        );
        this.headerBytes = Buffer.alloc(0);
        this.body(rest, callback);
      }, callback);
    } catch (err) {
      callback(err as Error);
    }
  }

  private body(chunk: Buffer, callback: TransformCallback): void {
    try {
      this.splitter!.write(chunk);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  private openSegment(segment: Buffer, last: boolean): void {
    const plaintext = this.segments!.open(this.index++, last, segment);
    if (plaintext.length > 0) this.push(plaintext);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.splitter) {
      callback(new CryptoError('truncated', 'stream ends inside the header'));
      return;
    }
    try {
      this.splitter.end();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }
}

/**
 * Seals a byte stream: header, then segments as they fill. Constant memory, respects backpressure.
 * With `opts.binding` (e.g. a recording bound to its call: kind 'call', the corp, the call's archive
 * id) the object opens only for that binding (suite 2, see sealed-header.ts).
 */
export function createSealStream(keys: KeyProvider, dataClass: DataClass, opts: SealOptions = {}): Transform {
  return new SealTransform(keys, dataClass, opts);
}

/**
 * Opens a sealed byte stream (`expected`: the binding of a bound object, see openParsedHeader), emitting each segment's plaintext only after its tag verified. It
 * errors with a CryptoError on any failure, including a stream cut short: plaintext already
 * emitted is authentic but possibly incomplete, so consumers must wait for 'end'/'finish' before
 * treating the result as whole.
 */
export function createOpenStream(keys: KeyProvider, expected?: SealBinding): Transform {
  return new OpenTransform(keys, expected);
}
