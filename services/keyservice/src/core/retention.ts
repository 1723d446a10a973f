import type { DataSource, EntityManager } from 'typeorm';
import { AppError, ConfigError, envInt } from '@cz/common';
import type { DataClass } from '@cz/common/crypto';

/*
 * Retention periods and the rules that keep crypto-shredding from coming early.
 *
 * Key material is grouped by calendar month (in the key service's time zone): the daily data keys
 * of class C in month P are wrapped under one period KEK K(C, P). A month, not a year, because
 * destruction can only remove whole periods: with yearly periods a record from January would be
 * kept up to a year past its legal minimum, which PIPL's "delete when no longer needed" forbids
 * as much as the supervisors forbid deleting early. Twelve period KEKs a year per class cost
 * nothing.
 */

/** `YYYY-MM`: the retention period of a day `YYYY-MM-DD` */
export type Period = string;

export const periodOfDay = (day: string): Period => day.slice(0, 7);

/** The first day (`YYYY-MM-01`) of the month `months` after the month of `day`. */
export function addMonths(day: string, months: number): string {
  const year = Number(day.slice(0, 4));
  const month = Number(day.slice(5, 7)) - 1 + months;
  const start = new Date(Date.UTC(year + Math.floor(month / 12), ((month % 12) + 12) % 12, 1));
  return start.toISOString().slice(0, 10);
}

export type RetentionMonths = Readonly<Record<DataClass, number>>;

/**
 * The legal minimum per class, in months after the end of the period a record falls in: chat 5
 * years (REG-01), recordings 2 years (REG-02); personal data and the blind index belong to the
 * chat records they describe and live as long; the audit class (the portal's read trail, alerts)
 * at least the 6 months the Cybersecurity Law asks of network logs.
 */
export const LEGAL_MINIMUM_MONTHS: RetentionMonths = {
  chat: 60,
  recording: 24,
  pii: 60,
  index: 60,
  audit: 6,
};

/** What a deployment keeps when it configures nothing: the minimum, the audit trail as long as chat. */
export const DEFAULT_RETENTION_MONTHS: RetentionMonths = { ...LEGAL_MINIMUM_MONTHS, audit: 60 };

/** Classes whose keys protect parts of another class's records, and so live at least as long. */
const RETAINED_WITH: Readonly<Partial<Record<DataClass, DataClass>>> = { pii: 'chat', index: 'chat' };

const MAX_RETENTION_MONTHS = 100 * 12;

/**
 * Checks a retention configuration: whole months, never below the legal minimum, and personal
 * data and the index never shorter than the chat records they belong to. Throws ConfigError
 * naming the setting, so a key service with a bad policy does not start.
 */
export function validateRetention(months: Record<DataClass, number>, source = 'retention'): RetentionMonths {
  for (const dataClass of Object.keys(LEGAL_MINIMUM_MONTHS) as DataClass[]) {
    const value = months[dataClass];
    const floor = LEGAL_MINIMUM_MONTHS[dataClass];
    if (!Number.isInteger(value) || value < floor || value > MAX_RETENTION_MONTHS) {
      throw new ConfigError(
        `${source}: ${dataClass} must be kept a whole number of months from ${floor} (the legal minimum) to ${MAX_RETENTION_MONTHS}, got ${value}`,
      );
    }
  }
  for (const [dataClass, owner] of Object.entries(RETAINED_WITH) as [DataClass, DataClass][]) {
    if (months[dataClass] < months[owner]) {
      throw new ConfigError(
        `${source}: ${dataClass} (${months[dataClass]} months) may not be kept shorter than ${owner} (${months[owner]} months), whose records it belongs to`,
      );
    }
  }
  return { ...months };
}

/**
 * The retention policy from the environment: CZ_KEYS_RETENTION_MONTHS_<CLASS> (e.g.
 * CZ_KEYS_RETENTION_MONTHS_CHAT=84). pii and index default to chat's value.
 */
export function retentionFromEnv(): RetentionMonths {
  const read = (dataClass: DataClass, fallback: number) =>
    envInt(`CZ_KEYS_RETENTION_MONTHS_${dataClass.toUpperCase()}`, fallback);
  const chat = read('chat', DEFAULT_RETENTION_MONTHS.chat);
  return validateRetention(
    {
      chat,
      recording: read('recording', DEFAULT_RETENTION_MONTHS.recording),
      pii: read('pii', Math.max(chat, DEFAULT_RETENTION_MONTHS.pii)),
      index: read('index', Math.max(chat, DEFAULT_RETENTION_MONTHS.index)),
      audit: read('audit', DEFAULT_RETENTION_MONTHS.audit),
    },
    'CZ_KEYS_RETENTION_MONTHS_*',
  );
}

/** A legal hold: no key material of `dataClass` for days `fromDay` ..= `toDay` may be destroyed. */
export interface HeldRange {
  id: string;
  dataClass: DataClass;
  fromDay: string;
  toDay: string;
}

/**
 * Where legal holds come from. The evidence workflow will place and release holds; the key service
 * only asks which days of a class are held. `tx` is the destruction's transaction: an
 * implementation over the database locks what it read so a hold placed meanwhile waits for the
 * destruction to commit (and then finds it done) instead of slipping in between check and shred.
 */
export interface LegalHolds {
  heldPeriods(dataClass: DataClass, tx?: EntityManager): Promise<HeldRange[]>;
}

/**
 * Legal holds in the key service's table ks_legal_hold (data_class, from_day, to_day, reason,
 * created_by; released_at set when lifted). A hold on chat also holds pii and index, which protect
 * parts of the same records. No API writes it yet: the evidence issue adds placing and releasing.
 */
export class TableLegalHolds implements LegalHolds {
  constructor(private readonly db: DataSource) {}

  async heldPeriods(dataClass: DataClass, tx?: EntityManager): Promise<HeldRange[]> {
    const classes = [dataClass, RETAINED_WITH[dataClass]].filter((c): c is DataClass => c !== undefined);
    const rows = await (tx ?? this.db).query<
      { id: string; data_class: DataClass; from_day: string; to_day: string }[]
    >(
      `SELECT id, data_class, DATE_FORMAT(from_day, '%Y-%m-%d') AS from_day, DATE_FORMAT(to_day, '%Y-%m-%d') AS to_day
       FROM ks_legal_hold WHERE data_class IN (?) AND released_at IS NULL ORDER BY from_day${tx ? ' LOCK IN SHARE MODE' : ''}`,
      [classes],
    );
    return rows.map((row) => ({
      id: String(row.id),
      dataClass: row.data_class,
      fromDay: row.from_day,
      toDay: row.to_day,
    }));
  }
}

/**
 * The guard every destruction passes, at request time and again inside the approval's
 * transaction: `before` is a period boundary, every period before it is past its retention
 * minimum, and no legal hold covers any day before it.
 */
export class RetentionGuard {
  constructor(
    private readonly months: RetentionMonths,
    private readonly holds: LegalHolds,
  ) {}

  retentionMonths(dataClass: DataClass): number {
    return this.months[dataClass];
  }

  /**
   * The first day on which the periods before `before` may be destroyed: the newest of them ends
   * at `before`, and its records are under their minimum until `before` + the class's retention.
   */
  earliestDestruction(dataClass: DataClass, before: string): string {
    return addMonths(before, this.months[dataClass]);
  }

  async assertDestroyable(
    dataClass: DataClass,
    before: string,
    today: string,
    tx?: EntityManager,
  ): Promise<void> {
    if (!/^\d{4}-\d{2}-01$/.test(before) || Number.isNaN(Date.parse(`${before}T00:00:00Z`))) {
      throw new AppError(
        400,
        'invalid_request',
        `before must be the first day of a month (key material is destroyed by whole calendar months), got ${before}`,
      );
    }
    const allowedFrom = this.earliestDestruction(dataClass, before);
    if (today < allowedFrom) {
      throw new AppError(
        409,
        'retention_not_expired',
        `${dataClass} records of the months before ${before} are under their retention minimum of ${this.months[dataClass]} months after each month's end; destroying them is allowed from ${allowedFrom}`,
      );
    }
    const held = (await this.holds.heldPeriods(dataClass, tx)).find((hold) => hold.fromDay < before);
    if (held) {
      throw new AppError(
        409,
        'legal_hold',
        `legal hold ${held.id} covers ${held.dataClass} records from ${held.fromDay} to ${held.toDay}; nothing before ${before} may be destroyed while it stands`,
      );
    }
  }
}

/**
 * Whether the database server copies a row's old values into its binary log on UPDATE (row-based
 * logging with a FULL or NOBLOB row image): then shredding would write the wrapped keys it
 * destroys into the binlog, from where a replica or a binlog backup plus the shares brings them
 * back. The destruction first asks for a MINIMAL row image for its session; if the account may
 * not set it (BINLOG ADMIN), it refuses instead of leaving the keys behind.
 */
export function binlogKeepsOldValues(server: { logBin: boolean; format: string; rowImage: string }): boolean {
  if (!server.logBin) return false;
  if (server.format.toUpperCase() === 'STATEMENT') return false;
  return server.rowImage.toUpperCase() !== 'MINIMAL';
}

export async function assertBinlogForgets(tx: EntityManager): Promise<void> {
  const read = async () => {
    const [row] = await tx.query<{ log_bin: number | string; format: string; row_image: string }[]>(
      'SELECT @@log_bin AS log_bin, @@session.binlog_format AS format, @@session.binlog_row_image AS row_image',
    );
    return {
      logBin: Number(row?.log_bin ?? 0) === 1,
      format: String(row?.format ?? ''),
      rowImage: String(row?.row_image ?? ''),
    };
  };
  if (!binlogKeepsOldValues(await read())) return;
  await tx.query("SET SESSION binlog_row_image = 'MINIMAL'").catch(() => undefined);
  if (binlogKeepsOldValues(await read())) {
    throw new AppError(
      409,
      'binlog_keeps_keys',
      "the database logs old row values in its binary log (binlog_row_image FULL): shredding would copy the destroyed keys into the binlog. Set binlog_row_image = 'MINIMAL' on the key database's server, or let the key service's account set it for its session (BINLOG ADMIN)",
    );
  }
}
