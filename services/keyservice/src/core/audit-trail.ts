import type { DataSource, EntityManager } from 'typeorm';
import { AppError } from '@cz/common';
import { appendKeyAudit, verifyKeyAuditChain, type ChainVerification, type KeyAuditEntry } from './audit';
import { actorOf, type Principal } from './principal';

const SEALED_AUDIT_EVERY_MS = 60000;

/**
 * How the key service records what it does in its own audit chain: every change (in the
 * transaction that makes it), every refusal (in its own transaction: nothing else changed), and
 * refusals while sealed, at most once a minute per caller (callers retry).
 */
export class AuditTrail {
  private readonly sealedAuditAt = new Map<string, number>();

  constructor(private readonly db: DataSource) {}

  async record(entry: KeyAuditEntry, tx?: EntityManager): Promise<void> {
    await appendKeyAudit(tx ?? this.db, entry);
  }

  /** Audits a refusal (in its own transaction: nothing else changed) and returns the error to throw. */
  async refuse(
    principal: Principal | null | undefined,
    action: string,
    target: string,
    error: AppError,
    detail: Record<string, unknown> = {},
  ): Promise<AppError> {
    await this.record({
      actor: actorOf(principal),
      action,
      outcome: 'refused',
      code: error.code,
      target,
      detail: { ...detail, reason: error.message },
    });
    return error;
  }

  /** Runs `work`; an AppError it throws is audited as a refusal of `action` before it propagates. */
  async audited<T>(
    principal: Principal | null | undefined,
    action: string,
    target: string,
    work: () => Promise<T>,
    detail: Record<string, unknown> = {},
  ): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof AppError && err.statusCode < 500)
        throw await this.refuse(principal, action, target, err, detail);
      if (err instanceof AppError && err.code === 'sealed') {
        await this.auditSealedRefusal(principal, action);
      }
      throw err;
    }
  }

  /** A failed authentication (no, unknown or wrong kind of credential). */
  async authFailure(action: string, code: string, detail: Record<string, unknown>): Promise<void> {
    await this.record({ actor: 'anonymous', action, outcome: 'refused', code, target: 'keyservice', detail });
  }

  /** Recomputes the chain; the check itself is audited too. */
  async verify(officer: Principal): Promise<ChainVerification> {
    const result = await verifyKeyAuditChain(this.db);
    await this.record({
      actor: actorOf(officer),
      action: 'audit.verify',
      outcome: result.intact ? 'ok' : 'failed',
      code: result.intact ? '' : 'chain_broken',
      target: 'ks_audit_event',
      detail: { events: result.events, firstBroken: result.firstBroken },
    });
    return result;
  }

  private async auditSealedRefusal(principal: Principal | null | undefined, action: string): Promise<void> {
    const actor = actorOf(principal);
    const last = this.sealedAuditAt.get(actor) ?? 0;
    if (Date.now() - last < SEALED_AUDIT_EVERY_MS) return;
    this.sealedAuditAt.set(actor, Date.now());
    await this.record({ actor, action, outcome: 'refused', code: 'sealed', target: 'keyservice' });
  }
}
