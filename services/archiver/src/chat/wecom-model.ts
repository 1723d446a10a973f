import type { EntityManager } from 'typeorm';
import type { ArchivedMessageV1 } from '@cz/contracts';
import { IndexPurposes, indexKeyFor, messageArchiveId } from '@cz/common';
import { blindIndex, sealBuffer, sealedKeyInfo, type KeyProvider } from '@cz/common/crypto';
import type { ConsentRow, MessageRow } from '../rows';

/** Scope of a WeCom agree / disagree: consent to having the conversation archived. */
export const WECOM_ARCHIVE_SCOPE = 'wecom-archive';

/**
 * Seals and blind-indexes the subject of a consent decision. Runs before the batch transaction;
 * a failure (key source unavailable) is thrown so the whole batch is retried, never dead-lettered.
 */
export async function prepareConsent(
  message: ArchivedMessageV1,
  keys: KeyProvider,
): Promise<ConsentRow | undefined> {
  if (!message.consent) return undefined;
  const userid = message.consent.userid.trim();
  const subjectSealed = await sealBuffer(Buffer.from(userid, 'utf8'), keys, 'pii', {
    kind: 'consent',
    corp: message.corpId,
    id: message.msgid,
  });
  const header = sealedKeyInfo(subjectSealed);
  return {
    subjectIndex: blindIndex(await indexKeyFor(keys, IndexPurposes.consent), userid),
    subjectSealed,
    kekId: header.kekId,
    kekVersion: header.kekVersion,
  };
}

/** Prepares the consent of every agree / disagree row (see prepareConsent), in place. */
export async function prepareConsents(rows: MessageRow[], keys: KeyProvider): Promise<void> {
  for (const row of rows) {
    if (row.message.consent) row.consent = await prepareConsent(row.message, keys);
  }
}

export interface ContentConflictObserver {
  /** a record reused an archived (corp, msgid) with different content; it was stored as a variant */
  contentConflict(row: MessageRow): void;
}

/**
 * The message model's part of a batch, inside the batch transaction and after the chunk's message
 * rows were inserted (INSERT IGNORE). Returns the rows that are the stored version of their
 * message (everything except conflicting variants), so recipients are written only for those.
 *
 * - Conflicts: each row is compared with the stored row of its id, read with a locking read so a
 *   row committed meanwhile by another replica is seen. A different content MAC means another
 *   record reused the msgid: the first stays, this one goes to `message_variant` (idempotent on
 *   its MAC). A stored row without MAC (archived before MACs existed) cannot be compared and
 *   counts as a plain duplicate.
 * - Recalls: flag the original by its archive id, whether or not it has arrived yet.
 * - Consent: one registry row per agree / disagree record.
 */
export async function storeWecomModel(
  tx: EntityManager,
  chunk: MessageRow[],
  observer?: ContentConflictObserver,
): Promise<MessageRow[]> {
  if (chunk.length === 0) return [];
  const ids = [...new Set(chunk.map((row) => row.message.id))];
  const stored = new Map<string, string | null>(
    // through message_key: both look-ups are unique (key, then the (msgtime, id) primary key), so the
    // locking read locks exactly these rows and never the next entry of another batch's insert
    (
      await tx.query<
        {
          id: string;
          content_mac: string | null;
        }[]
      >(
        `SELECT m.id, m.content_mac FROM message_key k FORCE INDEX (PRIMARY) JOIN message m ON m.msgtime = k.msgtime AND m.id = LOWER(HEX(k.id))
         WHERE k.id IN (${ids.map(() => 'UNHEX(?)').join(', ')}) FOR UPDATE`,
        ids,
      )
    ).map((r) => [r.id, r.content_mac]),
  );

  const kept: MessageRow[] = [];
  for (const row of chunk) {
    const { message: m } = row;
    const storedMac = stored.get(m.id);
    if (m.contentMac && storedMac && storedMac !== m.contentMac) {
      const result = await tx
        .createQueryBuilder()
        .insert()
        .orIgnore()
        .into('message_variant', [
          'message_id',
          'content_mac',
          'corp_id',
          'msgid',
          'seq',
          'received_at',
          'kek_id',
          'kek_version',
          'sealed_record',
        ])
        .values({
          message_id: m.id,
          content_mac: m.contentMac,
          corp_id: m.corpId,
          msgid: m.msgid,
          seq: m.seq ?? null,
          received_at: new Date(m.receivedAt),
          kek_id: row.kekId,
          kek_version: row.kekVersion,
          sealed_record: row.sealedRecord,
        })
        .execute();
      if (((result.raw as { affectedRows?: number }).affectedRows ?? 0) > 0) observer?.contentConflict(row);
      continue;
    }
    kept.push(row);
  }

  const recalls = kept
    .filter(({ message: m }) => m.recallOf)
    .map(({ message: m }) => ({
      message_id: messageArchiveId(m.corpId, m.recallOf!),
      recall_id: m.id,
      corp_id: m.corpId,
      recalled_at: new Date(m.msgtime),
    }));
  if (recalls.length > 0) {
    await tx
      .createQueryBuilder()
      .insert()
      .orIgnore()
      .into('message_recall', ['message_id', 'recall_id', 'corp_id', 'recalled_at'])
      .values(recalls)
      .execute();
  }

  const consents = kept.flatMap(({ message: m, consent }) => {
    if (m.consent && !consent) throw new Error(`consent of ${m.id} was not prepared (prepareConsent)`);
    return m.consent && consent
      ? [
          {
            corp_id: m.corpId,
            msgid: m.msgid,
            message_id: m.id,
            subject_index: consent.subjectIndex,
            subject_sealed: consent.subjectSealed,
            kek_id: consent.kekId,
            kek_version: consent.kekVersion,
            decision: m.consent.decision,
            scope: WECOM_ARCHIVE_SCOPE,
            channel: 'wecom',
            decided_at: new Date(m.consent.at),
          },
        ]
      : [];
  });
  if (consents.length > 0) {
    await tx
      .createQueryBuilder()
      .insert()
      .orIgnore()
      .into('consent_event', [
        'corp_id',
        'msgid',
        'message_id',
        'subject_index',
        'subject_sealed',
        'kek_id',
        'kek_version',
        'decision',
        'scope',
        'channel',
        'decided_at',
      ])
      .values(consents)
      .execute();
  }
  return kept;
}
