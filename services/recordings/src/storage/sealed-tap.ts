import { Transform, type TransformCallback } from 'node:stream';
import { tryParseSealedHeader, type ParsedSealedHeader } from '@cz/common/crypto';

/**
 * Passes the sealed stream through unchanged, counting its bytes and keeping a copy of its header
 * (data class, wrapped data key, salt, segment size), which the database keeps for Range reads
 * and for rewrapping the data key when the KEK rotates — the locked object itself never changes.
 */
export class SealedTap extends Transform {
  bytes = 0;
  header: ParsedSealedHeader | undefined;
  headerBytes: Buffer | undefined;
  private pending: Buffer[] = [];

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (!this.header) {
      this.pending.push(chunk);
      try {
        const seen = Buffer.concat(this.pending);
        const header = tryParseSealedHeader(seen);
        if (header) {
          this.header = header;
          this.headerBytes = Buffer.from(seen.subarray(0, header.headerLength));
          this.pending = [];
        }
      } catch (err) {
        callback(err as Error);
        return;
      }
    }
    callback(null, chunk);
  }
}
