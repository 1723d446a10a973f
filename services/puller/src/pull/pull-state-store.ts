import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { AlertV1 } from '@cz/contracts';
import { insertCompletenessAlerts } from '@cz/common';
import {
  bindingMismatch,
  openBuffer,
  sealBuffer,
  type KeyProvider,
  type SealBinding,
} from '@cz/common/crypto';
import type { ChatEnvelope } from '../sdk/protocol';

/** Secrets are sealed with the 'pii' data class (the most restricted class the key provider has). */
const SECRET_CLASS = 'pii';

export class LeaseLostError extends Error {
  constructor(corpId: string) {
    super(`the pull lease of ${corpId} is held by another puller`);
  }
}

export interface CorpConfig {
  corpId: string;
  secret: string;
  privateKeys: { publickeyVer: number; pem: string }[];
}

/** Sealed format v2 bindings of the puller's secrets and quarantined envelopes. */
const secretBinding = (corpId: string): SealBinding => ({ kind: 'secret', corp: corpId, id: 'corp-secret' });
const privateKeyBinding = (corpId: string, publickeyVer: number): SealBinding => ({
  kind: 'secret',
  corp: corpId,
  id: `private-key/${publickeyVer}`,
});
const quarantineBinding = (corpId: string, seq: number, msgid: string): SealBinding => ({
  kind: 'quarantine',
  corp: corpId,
  id: `${seq}/${msgid}`,
});

export async function saveCorpSource(
  db: DataSource,
  keys: KeyProvider,
  corpId: string,
  secret: string,
  enabled: boolean,
): Promise<void> {
  const sealed = await sealBuffer(Buffer.from(secret, 'utf8'), keys, SECRET_CLASS, secretBinding(corpId));
  await db.query(
    `INSERT INTO wecom_corp_source (corp_id, enabled, sealed_secret) VALUES (?, ?, ?)
     ON DUPLICATE KEY UPDATE enabled = VALUES(enabled), sealed_secret = VALUES(sealed_secret),
       updated_at = CURRENT_TIMESTAMP(3)`,
    [corpId, enabled ? 1 : 0, sealed],
  );
}

/** Stores one private key sealed; returns the SHA-256 of its public key (SPKI DER) for the operator. */
export async function saveCorpKey(
  db: DataSource,
  keys: KeyProvider,
  corpId: string,
  publickeyVer: number,
  privateKeyPem: string,
): Promise<string> {
  const privateKey = createPrivateKey(privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'rsa')
    throw new Error('the WeCom chat-archive key must be an RSA key');
  const fingerprint = createHash('sha256')
    .update(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }))
    .digest('hex');
  const sealed = await sealBuffer(
    Buffer.from(privateKeyPem, 'utf8'),
    keys,
    SECRET_CLASS,
    privateKeyBinding(corpId, publickeyVer),
  );
  await db.query(
    `INSERT INTO wecom_corp_key (corp_id, publickey_ver, sealed_private_key, public_key_sha256) VALUES (?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE sealed_private_key = VALUES(sealed_private_key),
       public_key_sha256 = VALUES(public_key_sha256), retired_at = NULL`,
    [corpId, publickeyVer, sealed, fingerprint],
  );
  return fingerprint;
}

export async function listEnabledCorps(db: DataSource): Promise<string[]> {
  const rows: { corp_id: string }[] = await db.query(
    'SELECT corp_id FROM wecom_corp_source WHERE enabled = 1 ORDER BY corp_id',
  );
  return rows.map((r) => r.corp_id);
}

/** Unseals the secret and every live key version: held in memory only, handed to the SDK child. */
export async function loadCorpConfig(db: DataSource, keys: KeyProvider, corpId: string): Promise<CorpConfig> {
  const [source]: { sealed_secret: Buffer }[] = await db.query(
    'SELECT sealed_secret FROM wecom_corp_source WHERE corp_id = ?',
    [corpId],
  );
  if (!source) throw new Error(`corp ${corpId} has no pull configuration`);
  const keyRows: { publickey_ver: number; sealed_private_key: Buffer }[] = await db.query(
    'SELECT publickey_ver, sealed_private_key FROM wecom_corp_key WHERE corp_id = ? AND retired_at IS NULL ORDER BY publickey_ver',
    [corpId],
  );
  const privateKeys = [];
  for (const row of keyRows) {
    privateKeys.push({
      publickeyVer: Number(row.publickey_ver),
      pem: (
        await openBuffer(row.sealed_private_key, keys, privateKeyBinding(corpId, Number(row.publickey_ver)))
      ).toString('utf8'),
    });
  }
  const secret = (await openBuffer(source.sealed_secret, keys, secretBinding(corpId))).toString('utf8');
  return { corpId, secret, privateKeys };
}

export async function keyVersionsOf(db: DataSource, corpId: string): Promise<number[]> {
  const rows: { publickey_ver: number }[] = await db.query(
    'SELECT publickey_ver FROM wecom_corp_key WHERE corp_id = ? AND retired_at IS NULL ORDER BY publickey_ver',
    [corpId],
  );
  return rows.map((r) => Number(r.publickey_ver));
}

/**
 * Takes or renews the corp's pull lease: only one puller replica pulls a corp at a time. A lease
 * not renewed within `leaseMs` (a dead replica) can be taken over.
 */
export async function acquireLease(db: DataSource, corpId: string, owner: string, leaseMs: number) {
  await db.query('INSERT IGNORE INTO wecom_pull_checkpoint (corp_id, seq) VALUES (?, 0)', [corpId]);
  const result = await db.query<{ affectedRows?: number }>(
    `UPDATE wecom_pull_checkpoint
        SET lease_owner = ?, lease_expires_at = DATE_ADD(NOW(3), INTERVAL ? MICROSECOND)
      WHERE corp_id = ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires_at < NOW(3))`,
    [owner, leaseMs * 1000, corpId, owner],
  );
  return (result.affectedRows ?? 0) > 0;
}

export async function releaseLease(db: DataSource, corpId: string, owner: string): Promise<void> {
  await db.query(
    'UPDATE wecom_pull_checkpoint SET lease_owner = NULL, lease_expires_at = NULL WHERE corp_id = ? AND lease_owner = ?',
    [corpId, owner],
  );
}

export async function readCheckpoint(db: DataSource, corpId: string): Promise<number> {
  const [row]: { seq: string }[] = await db.query('SELECT seq FROM wecom_pull_checkpoint WHERE corp_id = ?', [
    corpId,
  ]);
  return row ? Number(row.seq) : 0;
}

export async function recordPullError(db: DataSource, corpId: string, error: string): Promise<void> {
  await db.query('UPDATE wecom_pull_checkpoint SET last_error = ? WHERE corp_id = ?', [
    error.slice(0, 1000),
    corpId,
  ]);
}

export interface QuarantinedRecord {
  envelope: ChatEnvelope;
  stage: 'key' | 'decrypt' | 'decode' | 'ingest';
  reason: string;
}

export interface MediaJobInput {
  msgid: string;
  seq: number;
  sdkfileid: string;
  md5sum?: string;
  size?: number;
}

export const mediaJobId = (corpId: string, sdkfileid: string) =>
  createHash('sm3').update(`${corpId}\u0000${sdkfileid}`).digest('hex');

export interface BatchOutcome {
  corpId: string;
  owner: string;
  /** the new checkpoint: highest seq of the batch (never lower than the old one) */
  seq: number;
  records: number;
  quarantine: QuarantinedRecord[];
  alerts: AlertV1[];
  media: MediaJobInput[];
}

/**
 * The only place the checkpoint moves: after ingest acknowledged the batch, in ONE transaction
 * with the quarantine rows (records not archived, kept with their encrypted envelope), the
 * alerts and the media jobs. Fenced by the lease, so a replica that lost it cannot move it.
 */
export async function commitBatch(db: DataSource, keys: KeyProvider, outcome: BatchOutcome): Promise<void> {
  const sealedEnvelopes = await Promise.all(
    outcome.quarantine.map((q) =>
      sealBuffer(
        Buffer.from(JSON.stringify(q.envelope)),
        keys,
        'chat',
        quarantineBinding(outcome.corpId, q.envelope.seq, q.envelope.msgid),
      ),
    ),
  );
  await db.transaction(async (tx) => {
    const result = await tx.query<{ affectedRows?: number }>(
      `UPDATE wecom_pull_checkpoint
          SET seq = GREATEST(seq, ?), batches = batches + 1, records = records + ?,
              last_batch_at = NOW(3), last_error = NULL, updated_at = NOW(3)
        WHERE corp_id = ? AND lease_owner = ?`,
      [outcome.seq, outcome.records, outcome.corpId, outcome.owner],
    );
    if ((result.affectedRows ?? 0) === 0) throw new LeaseLostError(outcome.corpId);
    if (outcome.quarantine.length > 0) {
      await tx
        .createQueryBuilder()
        .insert()
        .into('wecom_pull_quarantine', [
          'corp_id',
          'seq',
          'msgid',
          'publickey_ver',
          'stage',
          'reason',
          'sealed_envelope',
        ])
        .values(
          outcome.quarantine.map((q, i) => ({
            corp_id: outcome.corpId,
            seq: q.envelope.seq,
            msgid: q.envelope.msgid,
            publickey_ver: q.envelope.publickey_ver,
            stage: q.stage,
            reason: q.reason.slice(0, 1000),
            sealed_envelope: sealedEnvelopes[i],
          })),
        )
        .execute();
    }
    await insertMediaJobs(tx, outcome.corpId, outcome.media);
    await insertCompletenessAlerts(tx, outcome.alerts);
  });
}

/** Media outbox rows (idempotent on corp + sdkfileid), inside the caller's transaction. */
export async function insertMediaJobs(
  tx: EntityManager,
  corpId: string,
  media: MediaJobInput[],
): Promise<void> {
  if (media.length === 0) return;
  await tx
    .createQueryBuilder()
    .insert()
    .orIgnore()
    .into('wecom_media_job', ['id', 'corp_id', 'msgid', 'seq', 'sdkfileid', 'expected_md5', 'expected_size'])
    .values(
      media.map((m) => ({
        id: mediaJobId(corpId, m.sdkfileid),
        corp_id: corpId,
        msgid: m.msgid,
        seq: m.seq,
        sdkfileid: m.sdkfileid,
        expected_md5: m.md5sum ?? null,
        expected_size: m.size ?? null,
      })),
    )
    .execute();
}

export interface MediaJob {
  id: string;
  corpId: string;
  msgid: string;
  seq: number | null;
  sdkfileid: string;
  expectedMd5: string | null;
  attempts: number;
}

export async function dueMediaJobs(db: DataSource, corpId: string, limit: number): Promise<MediaJob[]> {
  const rows: {
    id: string;
    msgid: string;
    seq: string | null;
    sdkfileid: string;
    expected_md5: string | null;
    attempts: number;
  }[] = await db.query(
    `SELECT id, msgid, seq, sdkfileid, expected_md5, attempts FROM wecom_media_job
      WHERE corp_id = ? AND status = 'pending' AND next_attempt_at <= NOW(3)
      ORDER BY next_attempt_at LIMIT ?`,
    [corpId, limit],
  );
  return rows.map((r) => ({
    id: r.id,
    corpId,
    msgid: r.msgid,
    seq: r.seq === null ? null : Number(r.seq),
    sdkfileid: r.sdkfileid,
    expectedMd5: r.expected_md5,
    attempts: Number(r.attempts),
  }));
}

/**
 * Counts the attempt BEFORE it starts and pushes the next one out, so media that crashes the
 * library every time cannot crash-loop the child: it runs out of attempts instead.
 */
export async function beginMediaAttempt(db: DataSource, jobId: string, retryInMs: number): Promise<void> {
  await db.query(
    `UPDATE wecom_media_job SET attempts = attempts + 1, updated_at = NOW(3),
       next_attempt_at = DATE_ADD(NOW(3), INTERVAL ? MICROSECOND) WHERE id = ?`,
    [retryInMs * 1000, jobId],
  );
}

export async function finishMediaJob(
  db: DataSource,
  jobId: string,
  outcome: {
    status: 'pending' | 'done' | 'md5_mismatch' | 'failed';
    actualMd5?: string;
    bytes?: number;
    error?: string;
    alert?: AlertV1;
  },
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      `UPDATE wecom_media_job SET status = ?, actual_md5 = COALESCE(?, actual_md5), bytes = COALESCE(?, bytes),
         last_error = ?, updated_at = NOW(3) WHERE id = ?`,
      [
        outcome.status,
        outcome.actualMd5 ?? null,
        outcome.bytes ?? null,
        outcome.error?.slice(0, 1000) ?? null,
        jobId,
      ],
    );
    if (outcome.alert) await insertCompletenessAlerts(tx, [outcome.alert]);
  });
}

export async function corpCounters(db: DataSource, corpId: string) {
  const [row]: { quarantine: string; media: string }[] = await db.query(
    `SELECT (SELECT COUNT(*) FROM wecom_pull_quarantine WHERE corp_id = ? AND resolved_at IS NULL) AS quarantine,
            (SELECT COUNT(*) FROM wecom_media_job WHERE corp_id = ? AND status = 'pending') AS media`,
    [corpId, corpId],
  );
  return { openQuarantine: Number(row?.quarantine ?? 0), pendingMedia: Number(row?.media ?? 0) };
}

export interface OpenQuarantine {
  id: string;
  envelope: ChatEnvelope;
}

/** Quarantined records whose key version is now held: they can be decrypted again. */
export async function replayableQuarantine(
  db: DataSource,
  keys: KeyProvider,
  corpId: string,
  versions: number[],
  limit: number,
): Promise<OpenQuarantine[]> {
  if (versions.length === 0) return [];
  const rows: { id: string; seq: number | string; msgid: string; sealed_envelope: Buffer }[] = await db.query(
    `SELECT id, seq, msgid, sealed_envelope FROM wecom_pull_quarantine
      WHERE corp_id = ? AND resolved_at IS NULL AND stage = 'key' AND publickey_ver IN (?)
      ORDER BY seq LIMIT ?`,
    [corpId, versions, limit],
  );
  const result: OpenQuarantine[] = [];
  for (const row of rows) {
    const binding = quarantineBinding(corpId, Number(row.seq), row.msgid);
    const envelope = JSON.parse(
      (await openBuffer(row.sealed_envelope, keys, binding)).toString('utf8'),
    ) as ChatEnvelope;
    // a v1 envelope has no binding: its own seq and msgid must be the row's
    if (envelope.seq !== Number(row.seq) || envelope.msgid !== row.msgid) {
      throw bindingMismatch(binding, "the envelope's seq or msgid differs from the row's");
    }
    result.push({ id: String(row.id), envelope });
  }
  return result;
}

/** Marks replayed records: resolved when ingest acknowledged them, else the new reason. */
export async function settleQuarantine(
  db: DataSource,
  corpId: string,
  outcomes: { id: string; resolved: boolean; stage?: string; reason?: string }[],
  media: MediaJobInput[],
): Promise<void> {
  await db.transaction(async (tx) => {
    await insertMediaJobs(tx, corpId, media);
    for (const o of outcomes) {
      if (o.resolved) {
        await tx.query('UPDATE wecom_pull_quarantine SET resolved_at = NOW(3) WHERE id = ?', [o.id]);
      } else {
        await tx.query('UPDATE wecom_pull_quarantine SET stage = ?, reason = ? WHERE id = ?', [
          o.stage ?? 'key',
          (o.reason ?? '').slice(0, 1000),
          o.id,
        ]);
      }
    }
  });
}
