import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { DataSource, EntityManager } from 'typeorm';
import type { ConflictingVersionReply, StoredObjectReply } from '@cz/contracts';
import { completenessAlert, insertCompletenessAlerts } from '@cz/common';
import type { CompleteObject } from './storage/objects';
import { storeConflictingVersion, type StoredVersion, type StoreRequest } from './storage/store-object';
import { storedReply, storeUpload } from './uploads';

/** Who raised a `recording_conflict` alert (cz.alert.v1 `source`). */
const ALERT_SOURCE = 'recordings';

/** The original first, then the conflicting versions already kept for it (oldest first). */
export async function versionsOf(db: DataSource, original: CompleteObject): Promise<StoredVersion[]> {
  const kept = await db.query<(CompleteObject & { conflict_id: string })[]>(
    `SELECT o.*, c.id AS conflict_id FROM recording_conflict c JOIN recording_object o ON o.id = c.object_id
      WHERE c.original_id = ? ORDER BY c.received_at, c.id`,
    [original.id],
  );
  return [
    { object: original },
    ...kept.map(({ conflict_id, ...object }) => ({ object, conflictId: conflict_id })),
  ];
}

/**
 * The review record of a conflicting version and its `recording_conflict` alert (critical: a
 * second recording of a call may be a forgery, or the real one after a forged first), written in
 * the transaction that completes the object. The alert goes out on `cz.alert.v1` through the
 * `completeness_alert` outbox; one about a call names it, so the archiver attaches it to the call.
 */
async function recordConflict(
  tx: EntityManager,
  original: CompleteObject,
  kept: CompleteObject,
): Promise<string> {
  const id = randomBytes(16).toString('hex');
  const alert = completenessAlert({
    corpId: kept.corp_id,
    kind: 'recording_conflict',
    severity: 'critical',
    source: ALERT_SOURCE,
    detail: {
      conflictId: id,
      object: kept.kind,
      ...(kept.kind === 'media' ? { mediaId: kept.owner_id } : {}),
      originalId: original.id,
      keptId: kept.id,
      uploadedBy: kept.uploaded_by,
    },
  });
  if (kept.kind === 'call') alert.callId = kept.owner_id;
  await tx.query(
    `INSERT INTO recording_conflict (id, kind, corp_id, owner_id, original_id, object_id, uploaded_by,
       original_uploaded_by, received_at, original_size, original_sm3, original_md5, conflict_size,
       conflict_sm3, conflict_md5, alert_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      id,
      kept.kind,
      kept.corp_id,
      kept.owner_id,
      original.id,
      kept.id,
      kept.uploaded_by,
      original.uploaded_by,
      kept.completed_at,
      original.plaintext_size,
      original.plaintext_sm3,
      original.plaintext_md5,
      kept.plaintext_size,
      kept.plaintext_sm3,
      kept.plaintext_md5,
      alert.id,
    ],
  );
  await insertCompletenessAlerts(tx, [alert]);
  return id;
}

export function conflictReply(
  conflictId: string,
  original: CompleteObject,
  kept: CompleteObject,
): ConflictingVersionReply {
  const what = kept.kind === 'call' ? `call ${kept.owner_id}` : `media ${kept.owner_id}`;
  return {
    code: 'conflicting_version_kept',
    message: `${what} already has its object (sm3 ${original.plaintext_sm3}), which stays the one served; this different upload was kept, locked, as conflicting version ${conflictId} for review`,
    conflictId,
    original: {
      id: original.id,
      sm3: original.plaintext_sm3,
      plaintextSize: Number(original.plaintext_size),
    },
    kept: storedReplyOf(kept),
  };
}

/**
 * Answers a second upload for an owner whose `original` is stored and locked: 200 with the
 * original when the body is the original's (idempotent), 409 `conflicting_version_kept` otherwise,
 * with the conflicting version kept (or the one already kept with the same content).
 */
export async function keepSecondUpload(
  app: FastifyInstance,
  reply: FastifyReply,
  upload: StoreRequest,
  original: CompleteObject,
  versions?: readonly StoredVersion[],
): Promise<FastifyReply> {
  const known = versions ?? (await versionsOf(app.db, original));
  const outcome = await storeUpload(reply, () =>
    storeConflictingVersion(app.storage, upload, known, (tx, kept) => recordConflict(tx, original, kept)),
  );
  if ('kept' in outcome)
    return reply.code(409).send(conflictReply(outcome.conflictId, original, outcome.kept));
  const same = outcome.identical;
  if (same.conflictId === undefined) return reply.code(200).send(storedReplyOf(same.object));
  return reply.code(409).send(conflictReply(same.conflictId, original, same.object));
}

/**
 * The reply of a stored object: a call's recording says whether it was announced yet, media kept
 * despite an md5 mismatch say so with both digests.
 */
export function storedReplyOf(row: CompleteObject): StoredObjectReply {
  const stored = storedReply(row);
  if (row.kind === 'call') return { ...stored, announced: row.announced_at !== null };
  return row.expected_md5 && row.expected_md5 !== row.plaintext_md5
    ? { ...stored, md5Mismatch: { expected: row.expected_md5, actual: row.plaintext_md5 } }
    : stored;
}
