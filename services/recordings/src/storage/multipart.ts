import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Client } from 'minio';

export interface MultipartTarget {
  client: Client;
  bucket: string;
  key: string;
  /** headers of CreateMultipartUpload: content type, object-lock mode and retain-until date */
  headers: Record<string, string>;
  partBytes: number;
  /** called after each part was stored (e.g. to record upload progress) */
  onPart?: (partNumber: number, bytes: number) => Promise<void> | void;
}

/**
 * A Writable that streams into one S3 multipart upload with a fixed part size and at most one part
 * in flight while the next one fills: memory stays at two part buffers whatever the object size.
 *
 * Why not minio-js `putObject(stream)`: with an unknown size (a sealed stream's size is unknown
 * until it ends) it sizes parts for the 5 TiB maximum object, i.e. 528 MiB, and holds a whole part
 * in memory (a 300 MiB upload peaked at 416 MiB RSS here); and when the source stream errors
 * (client disconnects) its promise never settles and the multipart upload is never aborted.
 * Here an error or destroy aborts the upload, so no object and no orphaned parts remain; the
 * object only comes into existence at CompleteMultipartUpload, after the last byte arrived.
 */
export class MultipartUpload extends Writable {
  uploadId: string | undefined;
  result: { etag: string; versionId: string | null } | undefined;
  private readonly buffers: Buffer[] = [];
  private current: Buffer;
  private fill = 0;
  private partNumber = 0;
  private readonly parts: { part: number; etag: string }[] = [];
  private inflight: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private completed = false;

  constructor(private readonly target: MultipartTarget) {
    super({ highWaterMark: 1024 * 1024 });
    this.current = this.buffer(0);
  }

  private buffer(index: number): Buffer {
    this.buffers[index] ??= Buffer.allocUnsafe(this.target.partBytes);
    return this.buffers[index];
  }

  override _construct(callback: (error?: Error | null) => void): void {
    const { client, bucket, key, headers } = this.target;
    client.initiateNewMultipartUpload(bucket, key, headers).then((id) => {
      this.uploadId = id;
      callback();
    }, callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.append(chunk).then(() => callback(), callback);
  }

  private async append(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(this.target.partBytes - this.fill, chunk.length - offset);
      chunk.copy(this.current, this.fill, offset, offset + take);
      this.fill += take;
      offset += take;
      if (this.fill === this.target.partBytes) await this.flushPart();
    }
  }

  /** Starts uploading the filled buffer and switches to the other one (after its upload finished). */
  private async flushPart(): Promise<void> {
    await this.inflight;
    if (this.failure) throw this.failure;
    const body = this.current.subarray(0, this.fill);
    const part = ++this.partNumber;
    this.inflight = this.uploadPart(part, body).catch((err: unknown) => {
      this.failure = err instanceof Error ? err : new Error(String(err));
    });
    this.current = this.buffer(part % 2);
    this.fill = 0;
  }

  private async uploadPart(part: number, body: Buffer): Promise<void> {
    const { client, bucket, key } = this.target;
    const md5 = createHash('md5').update(body).digest('base64');
    const { etag } = await client.uploadPart(
      {
        bucketName: bucket,
        objectName: key,
        uploadID: this.uploadId!,
        partNumber: part,
        headers: { 'Content-Length': String(body.length), 'Content-MD5': md5 },
      },
      body,
    );
    this.parts.push({ part, etag });
    await this.target.onPart?.(part, body.length);
  }

  override _final(callback: (error?: Error | null) => void): void {
    (async () => {
      if (this.fill > 0 || this.partNumber === 0) await this.flushPart();
      await this.inflight;
      if (this.failure) throw this.failure;
      const { client, bucket, key } = this.target;
      this.parts.sort((a, b) => a.part - b.part);
      this.result = await client.completeMultipartUpload(bucket, key, this.uploadId!, this.parts);
      this.completed = true;
    })().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.uploadId || this.completed) {
      callback(error);
      return;
    }
    const { client, bucket, key } = this.target;
    const uploadId = this.uploadId;
    this.inflight
      .then(() => client.abortMultipartUpload(bucket, key, uploadId))
      .then(
        () => callback(error),
        // the error that caused the abort matters more than a failed abort
        () => callback(error),
      );
  }
}
