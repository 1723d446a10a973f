import type { DataSource } from 'typeorm';
import {
  ALERT_TRANSITIONS,
  type AlertAction,
  type ComplianceAlertStatus,
  type LexiconCategory,
} from '@cz/contracts';
import { sealBuffer, sealedKeyInfo, type KeyProvider } from '@cz/common/crypto';
import type { Access } from '../scope';
import { alertNoteBinding, findAlert, type AlertRow } from './alerts';
import { dueAfter, slaHoursFor } from './sla';

/*
 * The lifecycle actions (ALERT_TRANSITIONS). Optimistic concurrency: the update holds only while
 * the row still has the status and row_version that were read, so of two people acting at once
 * one wins and the other sees the alert as it now is (e.g. already acknowledged: an invalid
 * transition). Notes are sealed (class audit) and bound to their alert.
 */

export type ActionError = 'not_found' | 'invalid_transition' | 'note_required';

export type ActionOutcome =
  | { ok: true; alert: AlertRow; from: ComplianceAlertStatus; to: ComplianceAlertStatus }
  | { ok: false; error: ActionError; status?: ComplianceAlertStatus };

export interface ActionContext {
  db: DataSource;
  keys: KeyProvider;
  access: Access;
  actor: string;
}

/** A note that says something, or null. */
export const noteText = (note: string | undefined) => {
  const trimmed = note?.trim();
  return trimmed ? trimmed : null;
};

/** The whole note check: the same for one alert and for many. */
export const missingNote = (action: AlertAction, note: string | null) =>
  ALERT_TRANSITIONS[action].noteRequired && note === null;

/** a handful of retries: each one means another person changed the alert in between */
const MAX_ATTEMPTS = 5;

export async function applyAlertAction(
  ctx: ActionContext,
  id: string,
  action: AlertAction,
  note: string | null,
): Promise<ActionOutcome> {
  if (missingNote(action, note)) return { ok: false, error: 'note_required' };
  const transition = ALERT_TRANSITIONS[action];
  let sealedNote: { sealed: Buffer; kekId: string; kekVersion: number } | null = null;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const alert = await findAlert(ctx.db, ctx.access, id);
    if (!alert) return { ok: false, error: 'not_found' };
    const from = alert.status;
    if (!transition.from.includes(from)) return { ok: false, error: 'invalid_transition', status: from };
    if (note !== null && sealedNote === null) {
      const sealed = await sealBuffer(Buffer.from(note, 'utf8'), ctx.keys, 'audit', alertNoteBinding(alert));
      const info = sealedKeyInfo(sealed);
      sealedNote = { sealed, kekId: info.kekId, kekVersion: info.kekVersion };
    }
    const to = transition.to ?? from;
    const now = new Date();
    const sets = ['status = ?', 'row_version = row_version + 1', 'updated_at = ?', 'last_actor = ?'];
    const params: unknown[] = [to, now, ctx.actor];
    const category = alert.category as LexiconCategory | null;
    if (action === 'reopen') {
      // a reopened alert is handled again: a fresh SLA period from now
      sets.push('due_at = ?');
      params.push(dueAfter(now, await slaHoursFor(ctx.db, category, alert.severity)));
    } else if (action === 'escalate') {
      // up one level of the org tree (the root stays the root), with a fresh SLA period there, as
      // the compliance service's SLA escalation does
      const current = alert.assigned_org_unit_id ?? alert.org_unit_id;
      const [unit] = current
        ? await ctx.db.query<{ parent_id: string | null }[]>(
            'SELECT parent_id FROM org_unit WHERE corp_id = ? AND id = ?',
            [alert.corp_id, current],
          )
        : [];
      sets.push(
        'assigned_org_unit_id = ?',
        'escalation_level = LEAST(escalation_level + 1, 255)',
        'due_at = ?',
      );
      params.push(
        unit?.parent_id ?? current,
        dueAfter(now, await slaHoursFor(ctx.db, category, alert.severity)),
      );
    }
    const applied = await ctx.db.transaction(async (tx) => {
      const result = await tx.query<{ affectedRows?: number }>(
        `UPDATE compliance_alert SET ${sets.join(', ')} WHERE id = ? AND status = ? AND row_version = ?`,
        [...params, alert.id, from, alert.row_version],
      );
      if ((result.affectedRows ?? 0) !== 1) return false;
      await tx.query(
        `INSERT INTO compliance_alert_event (alert_id, at, actor, action, from_status, to_status, kek_id, kek_version, sealed_note)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          alert.id,
          now,
          ctx.actor,
          action,
          from,
          transition.to,
          sealedNote?.kekId ?? null,
          sealedNote?.kekVersion ?? null,
          sealedNote?.sealed ?? null,
        ],
      );
      return true;
    });
    if (applied) return { ok: true, alert, from, to };
  }
  // changed under us every time: report it as it stands now
  const alert = await findAlert(ctx.db, ctx.access, id);
  return alert
    ? { ok: false, error: 'invalid_transition', status: alert.status }
    : { ok: false, error: 'not_found' };
}
