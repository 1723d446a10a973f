import type { DataSource } from 'typeorm';
import type { DataClass } from '@cz/common/crypto';
import type { KeyServiceSettings } from '../config';
import { Approvals } from './approvals';
import { AuditTrail } from './audit-trail';
import { Credentials } from './credentials';
import { Custody } from './custody';
import { DataKeys } from './data-keys';
import { Keyrings } from './keyrings';
import { RetentionGuard, TableLegalHolds } from './retention';
import { RewrapJobs } from './rewrap-jobs';
import { SealState } from './seal';
import { Sealing } from './sealing';

/**
 * Everything the key service does, over its own database and the in-memory root key, wired from
 * its parts: each part gets what it depends on here, and nothing else. Routes only authenticate
 * and translate; every refusal and every change is audited in the parts.
 */
export class KeyService {
  readonly audit: AuditTrail;
  readonly credentials: Credentials;
  readonly sealing: Sealing;
  readonly keyrings: Keyrings;
  readonly dataKeys: DataKeys;
  readonly custody: Custody;
  readonly approvals: Approvals;
  readonly rewrapJobs: RewrapJobs;

  constructor(db: DataSource, settings: KeyServiceSettings) {
    this.audit = new AuditTrail(db);
    this.credentials = new Credentials(db, settings.principalCacheMs);
    this.sealing = new Sealing(
      db,
      new SealState(settings.unsealRoundTimeoutMs),
      this.audit,
      this.credentials,
      settings.bootstrapSecret,
    );
    this.keyrings = new Keyrings(db, this.sealing, this.audit);
    this.sealing.onSeal(() => this.keyrings.forget());
    this.dataKeys = new DataKeys(
      db,
      settings.dayOffsetMinutes,
      this.sealing,
      this.keyrings,
      this.audit,
      new RetentionGuard(settings.retentionMonths, new TableLegalHolds(db)),
    );
    this.custody = new Custody(db, settings.requestTtlMs, this.credentials, this.audit);
    this.approvals = new Approvals(
      db,
      settings.requestTtlMs,
      this.keyrings,
      this.dataKeys,
      this.audit,
      this.custody,
    );
    this.rewrapJobs = new RewrapJobs(db, this.sealing, this.keyrings, this.dataKeys, this.audit);
  }

  /** Loads daily keys for past days (benchmarks, tests, imports). */
  createDailyKeys(dataClass: DataClass, days: string[], actor: string): Promise<number> {
    return this.dataKeys.createDailyKeys(dataClass, days, actor);
  }

  /** Performs the automatic rotations that are due (the plugin's timer calls this). */
  autoRotate(now?: Date): Promise<{ dataClass: DataClass; version: number }[]> {
    return this.keyrings.autoRotate(now);
  }

  /** Stops background work and forgets every key held in memory. */
  async close(): Promise<void> {
    await this.rewrapJobs.close();
    this.sealing.forgetRootKey();
  }
}
