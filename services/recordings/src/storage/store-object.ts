import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { Client } from 'minio';
import type { DataSource } from 'typeorm';
import { AppError } from '@cz/common';
import { createSealStream, sealedSize, type KeyProvider } from '@cz/common/crypto';
import { PlaintextMeter, type MeterOptions } from './meter';
import { MultipartUpload } from './multipart';
import {
  claimUpload,
  completeUpload,
  failUpload,
  touchUpload,
  type CompleteObject,
  type NewUpload,
  type ObjectRow,
} from './objects';
import { SealedTap } from './sealed-tap';

export interface StorageContext {
  db: DataSource;
  minio: Client;
  keys: KeyProvider;
  bucket: string;
  partBytes: number;
  staleUploadMs: number;
  log: FastifyBaseLogger;
}

export interface StoreRequest extends Omit<NewUpload, 'bucket'> {
  /** the plaintext; opened only once the upload slot is claimed */
  body: () => Promise<Readable> | Readable;
  /**
   * An HTTP request body is left alone when the upload fails (destroying it would reset the
   * connection before the 4xx reply); any other source (a transcoder) is destroyed.
   */
  isHttpRequest?: boolean;
  meter: MeterOptions;
  retainUntil: Date;
}

export type StoreResult = { stored: CompleteObject } | { existing: ObjectRow };

/** Retention is read back from the object store: the lock is what REG-02 relies on, so it is verified. */
async function verifyRetention(ctx: StorageContext, key: string, versionId: string, retainUntil: Date) {
  const retention = (await ctx.minio.getObjectRetention(ctx.bucket, key, { versionId })) as
    { mode?: string; retainUntilDate?: string } | undefined;
  const until = retention?.retainUntilDate ? new Date(retention.retainUntilDate) : undefined;
  if (retention?.mode !== 'COMPLIANCE' || !until || until.getTime() < retainUntil.getTime() - 1000) {
    throw new Error(
      `object ${key} (${versionId}) has retention ${JSON.stringify(retention)} instead of COMPLIANCE until ${retainUntil.toISOString()}`,
    );
  }
  return until;
}

/**
 * Reads `source` through a PassThrough, so that a failure further down (size limit, wrong type)
 * does not destroy the source: destroying an HTTP request resets the connection before the 4xx
 * reply is written. A source that closes before its end (client gone) fails the feed.
 */
function shield(source: Readable): { feed: Readable; release: () => void } {
  const feed = new PassThrough({ highWaterMark: 256 * 1024 });
  const onError = (err: Error) => feed.destroy(err);
  const onClose = () => {
    if (!source.readableEnded) feed.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  };
  source.on('error', onError);
  source.on('close', onClose);
  source.pipe(feed);
  return {
    feed,
    release: () => {
      source.unpipe(feed);
      source.off('error', onError);
      source.off('close', onClose);
    },
  };
}

const describe = (err: unknown) =>
  err instanceof AppError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);

/**
 * Streams a plaintext body into the archive: meter (size limit, type sniff, SM3/MD5) → seal
 * (SM4-CTR + HMAC-SM3 segments, class recording) → multipart upload into MinIO with COMPLIANCE
 * retention set on the upload itself. Memory stays at about two multipart parts. The database row
 * becomes `complete` only after the object store completed the object, its retention was read back
 * and the sizes agree; on any failure the multipart upload is aborted (no object exists) and the
 * row is marked failed, so nothing partial is ever referenced.
 */
export async function storeObject(ctx: StorageContext, request: StoreRequest): Promise<StoreResult> {
  const claim = await claimUpload(ctx.db, { ...request, bucket: ctx.bucket }, ctx.staleUploadMs);
  if (!claim.claimed) return { existing: claim.existing };
  if (claim.abandoned) {
    await ctx.minio.removeIncompleteUpload(ctx.bucket, claim.abandoned.object_key).catch((err: unknown) => {
      ctx.log.warn({ err, id: claim.abandoned?.id }, 'could not remove an abandoned multipart upload');
    });
  }
  const meter = new PlaintextMeter(request.meter);
  const tap = new SealedTap();
  let lastTouch = Date.now();
  const upload = new MultipartUpload({
    client: ctx.minio,
    bucket: ctx.bucket,
    key: claim.objectKey,
    partBytes: ctx.partBytes,
    headers: {
      'Content-Type': 'application/octet-stream',
      'X-Amz-Object-Lock-Mode': 'COMPLIANCE',
      'X-Amz-Object-Lock-Retain-Until-Date': request.retainUntil.toISOString(),
    },
    onPart: async () => {
      if (Date.now() - lastTouch > 5000) {
        lastTouch = Date.now();
        await touchUpload(ctx.db, claim.id);
      }
    },
  });
  let release = () => {};
  try {
    const body = await request.body();
    const source = shield(body);
    release = () => {
      source.release();
      if (!request.isHttpRequest) body.destroy();
    };
    await pipeline(source.feed, meter, createSealStream(ctx.keys, 'recording'), tap, upload);
    const versionId = upload.result?.versionId;
    if (!versionId)
      throw new Error('the bucket returned no version id: is versioning (object lock) enabled?');
    const retainUntil = await verifyRetention(ctx, claim.objectKey, versionId, request.retainUntil);
    const header = tap.header!;
    const expectedSealed = sealedSize(meter.bytes, header.headerLength, header.segmentSize);
    if (expectedSealed !== tap.bytes) {
      throw new Error(`sealed ${tap.bytes} bytes but ${meter.bytes} plaintext bytes need ${expectedSealed}`);
    }
    const stored = await completeUpload(ctx.db, claim.id, {
      versionId,
      plaintextSize: meter.bytes,
      sealedSize: tap.bytes,
      sealedHeader: tap.headerBytes!,
      kekId: header.kekId,
      kekVersion: header.kekVersion,
      sm3: meter.sm3Hex,
      md5: meter.md5Hex,
      retainUntil,
    });
    ctx.log.info(
      { id: stored.id, kind: stored.kind, corpId: stored.corp_id, bytes: meter.bytes },
      'object stored sealed and locked',
    );
    return { stored };
  } catch (err) {
    release();
    upload.destroy();
    await failUpload(ctx.db, claim.id, describe(err)).catch((dbErr: unknown) => {
      ctx.log.error({ err: dbErr, id: claim.id }, 'could not mark a failed upload');
    });
    ctx.log.warn({ id: claim.id, kind: request.kind, reason: describe(err) }, 'upload not stored');
    throw err;
  }
}
