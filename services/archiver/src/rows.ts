import type { EntityManager } from 'typeorm';
import type { ArchivedMessageV1 } from '@cz/contracts';

/*
 * The row types a chat batch carries from decoding to its transaction, and the contract of the
 * work its hooks do there. Every layer imports them from here, so none imports a store for a type.
 */

/** A consent decision ready to store: the external userid only sealed and as a blind index. */
export interface ConsentRow {
  subjectIndex: string;
  subjectSealed: Buffer;
  kekId: string;
  kekVersion: number;
}

/** One cz.msg.v1 record, opened and checked, with the sealed bytes it travelled as. */
export interface MessageRow {
  message: ArchivedMessageV1;
  sealedRecord: Buffer;
  kekId: string;
  kekVersion: number;
  /** agree / disagree records: the sealed, blind-indexed subject (see prepareConsent) */
  consent?: ConsentRow;
}

/** Work done inside the batch transaction for the records this batch archived first. */
export interface ArchiveHook {
  readonly name: string;
  /** before the transaction: work that may call other services (sealing, key look-ups) */
  prepare?(rows: MessageRow[]): Promise<unknown>;
  /** inside the batch transaction; `fresh` holds each record archived by this batch once */
  apply(tx: EntityManager, fresh: MessageRow[], prepared: unknown): Promise<void>;
}
