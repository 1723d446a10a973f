import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { AppError } from '@cz/common';

/** call: a call recording; media: a chat media object; derived: a transcode of another object. */
export type ObjectKind = 'call' | 'media' | 'derived';

export interface ObjectRow {
  id: string;
  kind: ObjectKind;
  corp_id: string;
  owner_id: string;
  call_pk: string | null;
  /** the caller that uploaded it (NULL: before callers were authenticated, or a derived transcode) */
  uploaded_by: string | null;
  /** set on a conflicting version: the id of the owner's original, which stays the one served */
  conflict_of: string | null;
  /** `identical`: a second upload with the content of a stored version, so not stored again */
  status: 'uploading' | 'complete' | 'failed' | 'identical';
  bucket: string;
  object_key: string;
  version_id: string | null;
  content_type: string;
  plaintext_size: string | null;
  sealed_size: string | null;
  sealed_header: Buffer | null;
  plaintext_sm3: string | null;
  plaintext_md5: string | null;
  expected_md5: string | null;
  retain_until: Date | null;
  updated_at: Date;
  completed_at: Date | null;
  announced_at: Date | null;
}

/** A complete row, with the fields a complete object always has. */
export type CompleteObject = ObjectRow & {
  status: 'complete';
  version_id: string;
  plaintext_size: string;
  sealed_size: string;
  sealed_header: Buffer;
  plaintext_sm3: string;
  plaintext_md5: string;
  retain_until: Date;
  completed_at: Date;
};

const COLUMNS = `id, kind, corp_id, owner_id, call_pk, uploaded_by, conflict_of, status, bucket, object_key, version_id, content_type,
  plaintext_size, sealed_size, sealed_header, plaintext_sm3, plaintext_md5, expected_md5, retain_until,
  updated_at, completed_at, announced_at`;

export async function findLiveObject(
  db: DataSource,
  kind: ObjectKind,
  corpId: string,
  ownerId: string,
): Promise<ObjectRow | undefined> {
  const rows: ObjectRow[] = await db.query(
    `SELECT ${COLUMNS} FROM recording_object WHERE kind = ? AND corp_id = ? AND owner_id = ? AND slot = 1`,
    [kind, corpId, ownerId],
  );
  return rows[0];
}

export async function findCompleteObject(
  db: DataSource,
  kind: ObjectKind,
  corpId: string,
  ownerId: string,
): Promise<CompleteObject | undefined> {
  const row = await findLiveObject(db, kind, corpId, ownerId);
  return row?.status === 'complete' ? (row as CompleteObject) : undefined;
}

export async function findObjectById(db: DataSource, id: string): Promise<ObjectRow | undefined> {
  const rows: ObjectRow[] = await db.query(`SELECT ${COLUMNS} FROM recording_object WHERE id = ?`, [id]);
  return rows[0];
}

export interface NewUpload {
  kind: ObjectKind;
  corpId: string;
  ownerId: string;
  callPk?: string;
  /** the authenticated caller's name */
  uploadedBy?: string;
  bucket: string;
  contentType: string;
  expectedMd5?: string;
}

export type Claim =
  | { claimed: true; id: string; objectKey: string; abandoned?: ObjectRow }
  | { claimed: false; existing: ObjectRow };

const isDuplicateKey = (err: unknown) =>
  (err as { code?: string; driverError?: { code?: string } }).code === 'ER_DUP_ENTRY' ||
  (err as { driverError?: { code?: string } }).driverError?.code === 'ER_DUP_ENTRY';

/**
 * Claims the one live slot of (kind, corp, owner) for a new upload. Returns the existing row when
 * the owner already has a complete object, and refuses while another upload of it is making
 * progress. An upload that made no progress for `staleMs` (its process died) is marked failed
 * and returned as `abandoned`, so the caller can remove its incomplete multipart upload.
 */
export async function claimUpload(db: DataSource, upload: NewUpload, staleMs: number): Promise<Claim> {
  const id = randomBytes(16).toString('hex');
  const objectKey = objectKeyOf(upload, id);
  try {
    return await db.transaction(async (tx) => {
      const [live] = await tx.query<ObjectRow[]>(
        `SELECT ${COLUMNS} FROM recording_object WHERE kind = ? AND corp_id = ? AND owner_id = ? AND slot = 1 FOR UPDATE`,
        [upload.kind, upload.corpId, upload.ownerId],
      );
      let abandoned: ObjectRow | undefined;
      if (live?.status === 'complete') return { claimed: false as const, existing: live };
      if (live) {
        if (Date.now() - new Date(live.updated_at).getTime() < staleMs) {
          throw new AppError(
            409,
            'upload_in_progress',
            'another upload of this object is in progress; retry later',
          );
        }
        await tx.query(
          `UPDATE recording_object SET status = 'failed', slot = NULL, error = 'abandoned: no progress', updated_at = ? WHERE id = ?`,
          [new Date(), live.id],
        );
        abandoned = live;
      }
      await insertUploading(tx, id, objectKey, upload, { slot: 1 });
      return abandoned
        ? { claimed: true as const, id, objectKey, abandoned }
        : { claimed: true as const, id, objectKey };
    });
  } catch (err) {
    if (isDuplicateKey(err)) {
      throw new AppError(
        409,
        'upload_in_progress',
        'another upload of this object is in progress; retry later',
      );
    }
    throw err;
  }
}

/** The row of a new upload, `uploading` until its object is complete. */
async function insertUploading(
  tx: EntityManager,
  id: string,
  objectKey: string,
  upload: NewUpload,
  place: { slot: 1 } | { conflictOf: string },
): Promise<void> {
  const now = new Date();
  await tx.query(
    `INSERT INTO recording_object (id, kind, corp_id, owner_id, call_pk, uploaded_by, conflict_of, slot, status,
       bucket, object_key, content_type, expected_md5, started_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'uploading', ?, ?, ?, ?, ?, ?)`,
    [
      id,
      upload.kind,
      upload.corpId,
      upload.ownerId,
      upload.callPk ?? null,
      upload.uploadedBy ?? null,
      'conflictOf' in place ? place.conflictOf : null,
      'slot' in place ? place.slot : null,
      upload.bucket,
      objectKey,
      upload.contentType,
      upload.expectedMd5 ?? null,
      now,
      now,
    ],
  );
}

const objectKeyOf = (upload: NewUpload, id: string) =>
  `${upload.kind}/${upload.corpId}/${encodeURIComponent(upload.ownerId)}/${id}.czs`;

export interface ConflictClaim {
  id: string;
  objectKey: string;
  /** earlier conflicting uploads of the same original that stopped making progress (marked failed) */
  abandoned: ObjectRow[];
}

/**
 * Claims a row for a second upload of an owner whose `original` is complete: it never takes the
 * live slot (the original stays the one served) and points at the original. Several may run at
 * once. Earlier conflicting uploads of the original that made no progress for `staleMs` are
 * marked failed and returned, so the caller can remove their incomplete multipart uploads.
 */
export async function claimConflict(
  db: DataSource,
  upload: NewUpload,
  original: CompleteObject,
  staleMs: number,
): Promise<ConflictClaim> {
  const id = randomBytes(16).toString('hex');
  const objectKey = objectKeyOf(upload, id);
  return db.transaction(async (tx) => {
    const abandoned = await tx.query<ObjectRow[]>(
      `SELECT ${COLUMNS} FROM recording_object
        WHERE conflict_of = ? AND status = 'uploading' AND updated_at < ? FOR UPDATE`,
      [original.id, new Date(Date.now() - staleMs)],
    );
    if (abandoned.length > 0) {
      await tx.query(
        `UPDATE recording_object SET status = 'failed', error = 'abandoned: no progress', updated_at = ? WHERE id IN (?)`,
        [new Date(), abandoned.map((row) => row.id)],
      );
    }
    await insertUploading(tx, id, objectKey, upload, { conflictOf: original.id });
    return { id, objectKey, abandoned };
  });
}

/** An upload whose content turned out to be that of a stored version: nothing was stored. */
export async function markIdentical(db: DataSource, id: string, sameAs: string): Promise<void> {
  await db.query(
    `UPDATE recording_object SET status = 'identical', slot = NULL, error = ?, updated_at = ? WHERE id = ? AND status = 'uploading'`,
    [`identical to ${sameAs}: not stored again`, new Date(), id],
  );
}

export async function touchUpload(db: DataSource, id: string): Promise<void> {
  await db.query(`UPDATE recording_object SET updated_at = ? WHERE id = ? AND status = 'uploading'`, [
    new Date(),
    id,
  ]);
}

/** Frees the slot: the object was never completed (or must not be referenced), so it is not the owner's. */
export async function failUpload(db: DataSource, id: string, error: string): Promise<void> {
  await db.query(
    `UPDATE recording_object SET status = 'failed', slot = NULL, error = ?, updated_at = ? WHERE id = ? AND status = 'uploading'`,
    [error.slice(0, 255), new Date(), id],
  );
}

export interface Completion {
  versionId: string;
  plaintextSize: number;
  sealedSize: number;
  sealedHeader: Buffer;
  kekId: string;
  kekVersion: number;
  sm3: string;
  md5: string;
  retainUntil: Date;
}

/**
 * Marks an upload complete; `andThen` runs in the same transaction (a conflicting version's review
 * record and alert exist if and only if the object is complete).
 */
export async function completeUpload(
  db: DataSource,
  id: string,
  done: Completion,
  andThen?: (tx: EntityManager, row: CompleteObject) => Promise<void>,
): Promise<CompleteObject> {
  return db.transaction(async (tx) => {
    const row = await completeIn(tx, id, done);
    if (andThen) await andThen(tx, row);
    return row;
  });
}

async function completeIn(tx: EntityManager, id: string, done: Completion): Promise<CompleteObject> {
  const now = new Date();
  await tx.query(
    `UPDATE recording_object SET status = 'complete', version_id = ?, plaintext_size = ?, sealed_size = ?,
       sealed_header = ?, kek_id = ?, kek_version = ?, plaintext_sm3 = ?, plaintext_md5 = ?, retain_until = ?,
       completed_at = ?, updated_at = ?
     WHERE id = ? AND status = 'uploading'`,
    [
      done.versionId,
      done.plaintextSize,
      done.sealedSize,
      done.sealedHeader,
      done.kekId,
      done.kekVersion,
      done.sm3,
      done.md5,
      done.retainUntil,
      now,
      now,
      id,
    ],
  );
  const [row] = await tx.query<ObjectRow[]>(`SELECT ${COLUMNS} FROM recording_object WHERE id = ?`, [id]);
  if (row?.status !== 'complete') {
    throw new Error(
      `upload ${id} was taken over while it completed (marked abandoned); its object is not referenced`,
    );
  }
  return row as CompleteObject;
}
