import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { Client } from 'minio';
import type { DataSource, EntityManager } from 'typeorm';
import { AppError } from '@cz/common';
import { createSealStream, objectBinding, sealedSize, type KeyProvider } from '@cz/common/crypto';
import { KnownContent, PlaintextMeter, type MeterOptions } from './meter';
import { MultipartUpload } from './multipart';
import {
  claimConflict,
  claimUpload,
  completeUpload,
  failUpload,
  markIdentical,
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

/** A stored version of an owner: its original, or a conflicting version kept for review. */
export interface StoredVersion {
  object: CompleteObject;
  /** the review record of a conflicting version; undefined for the original */
  conflictId?: string;
}

export type ConflictResult =
  /** the upload is byte for byte that version: nothing was stored */
  | { identical: StoredVersion }
  /** the upload was stored and locked as a conflicting version */
  | { kept: CompleteObject; conflictId: string };

/** Records a conflicting version for review, inside the transaction that completes its object. */
export type RecordConflict = (tx: EntityManager, kept: CompleteObject) => Promise<string>;

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
 * row is marked failed, so nothing partial is ever referenced. An owner whose object is already
 * complete gets `existing` back and nothing is read.
 */
export async function storeObject(ctx: StorageContext, request: StoreRequest): Promise<StoreResult> {
  const claim = await claimUpload(ctx.db, { ...request, bucket: ctx.bucket }, ctx.staleUploadMs);
  if (!claim.claimed) return { existing: claim.existing };
  if (claim.abandoned) await removeIncomplete(ctx, claim.abandoned);
  return { stored: await streamObject(ctx, claim, request) };
}

/**
 * A second upload for an owner whose original is stored and locked. Nothing locked is ever
 * overwritten and nothing received is dropped: the body is streamed like any upload into an object
 * of its own (new key, same COMPLIANCE retention) that points at the original and never takes its
 * place. When the body turns out to be byte for byte one of `versions` (the original first, then
 * the conflicting versions already kept) the multipart upload is aborted before it completes and
 * that version is returned (an idempotent retry); otherwise `recordConflict` records the review
 * record and its alert in the transaction that completes the object.
 */
export async function storeConflictingVersion(
  ctx: StorageContext,
  request: StoreRequest,
  versions: readonly StoredVersion[],
  recordConflict: RecordConflict,
): Promise<ConflictResult> {
  const original = versions[0]!.object;
  const claim = await claimConflict(ctx.db, { ...request, bucket: ctx.bucket }, original, ctx.staleUploadMs);
  for (const abandoned of claim.abandoned) await removeIncomplete(ctx, abandoned);
  let conflictId = '';
  try {
    const kept = await streamObject(
      ctx,
      claim,
      { ...request, meter: { ...request.meter, knownSm3: versions.map((v) => v.object.plaintext_sm3) } },
      async (tx, row) => {
        conflictId = await recordConflict(tx, row);
      },
    );
    return { kept, conflictId };
  } catch (err) {
    if (!(err instanceof KnownContent)) throw err;
    const same = versions.find((v) => v.object.plaintext_sm3 === err.sm3)!;
    return { identical: same };
  }
}

async function removeIncomplete(ctx: StorageContext, abandoned: ObjectRow): Promise<void> {
  await ctx.minio.removeIncompleteUpload(ctx.bucket, abandoned.object_key).catch((err: unknown) => {
    ctx.log.warn({ err, id: abandoned.id }, 'could not remove an abandoned multipart upload');
  });
}

async function streamObject(
  ctx: StorageContext,
  claim: { id: string; objectKey: string },
  request: StoreRequest,
  andThen?: (tx: EntityManager, row: CompleteObject) => Promise<void>,
): Promise<CompleteObject> {
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
    await pipeline(
      source.feed,
      meter,
      createSealStream(ctx.keys, 'recording', { binding: objectBinding(claim.objectKey) }),
      tap,
      upload,
    );
    const versionId = upload.result?.versionId;
    if (!versionId)
      throw new Error('the bucket returned no version id: is versioning (object lock) enabled?');
    const retainUntil = await verifyRetention(ctx, claim.objectKey, versionId, request.retainUntil);
    const header = tap.header!;
    const expectedSealed = sealedSize(meter.bytes, header.headerLength, header.segmentSize);
    if (expectedSealed !== tap.bytes) {
      throw new Error(`sealed ${tap.bytes} bytes but ${meter.bytes} plaintext bytes need ${expectedSealed}`);
    }
    const stored = await completeUpload(
      ctx.db,
      claim.id,
      {
        versionId,
        plaintextSize: meter.bytes,
        sealedSize: tap.bytes,
        sealedHeader: tap.headerBytes!,
        kekId: header.kekId,
        kekVersion: header.kekVersion,
        sm3: meter.sm3Hex,
        md5: meter.md5Hex,
        retainUntil,
      },
      andThen,
    );
    ctx.log.info(
      {
        id: stored.id,
        kind: stored.kind,
        corpId: stored.corp_id,
        bytes: meter.bytes,
        uploadedBy: stored.uploaded_by,
        ...(stored.conflict_of ? { conflictOf: stored.conflict_of } : {}),
      },
      stored.conflict_of ? 'conflicting version stored sealed and locked' : 'object stored sealed and locked',
    );
    return stored;
  } catch (err) {
    release();
    upload.destroy();
    if (err instanceof KnownContent) {
      await markIdentical(ctx.db, claim.id, err.sm3);
      ctx.log.info(
        { id: claim.id, kind: request.kind },
        'upload identical to a stored version: not stored again',
      );
      throw err;
    }
    await failUpload(ctx.db, claim.id, describe(err)).catch((dbErr: unknown) => {
      ctx.log.error({ err: dbErr, id: claim.id }, 'could not mark a failed upload');
    });
    ctx.log.warn({ id: claim.id, kind: request.kind, reason: describe(err) }, 'upload not stored');
    throw err;
  }
}
