import nodemailer, { type Transporter } from 'nodemailer';
import type { NotificationChannelKind } from '@cz/contracts';
import type { ChannelTarget } from './channels';
import type { WorkflowSettings } from './settings';

/**
 * What a notification says: the alert's ids, kind, category, severity, status, times and a
 * console link. Never the message text, the lexicon's words that matched, or anyone's identity:
 * a receiver (a chat group, a mailbox) is outside the archive's controls.
 */
export interface AlertNotice {
  event: 'raised' | 'escalated' | 'test';
  alertId: string;
  corpId: string;
  kind: string;
  category: string | null;
  severity: string;
  status: string;
  raisedAt: string;
  dueAt: string | null;
  escalationLevel: number;
  consoleUrl: string;
}

export class SendError extends Error {}

const CATEGORY_ZH: Record<string, string> = {
  guaranteed_return: '承诺保本收益',
  private_dealing: '私下交易/收费',
  kickback: '返点回扣',
  illegal_lending: '违规借贷广告',
  collection_abuse: '暴力催收',
  outside_platform: '引流至外部平台',
  impersonation: '冒充身份',
  complaint: '投诉线索',
  personal_data: '个人信息',
  custom: '自定义',
};
const SEVERITY_ZH: Record<string, string> = { critical: '严重', warning: '警告', info: '提示' };
const EVENT_ZH: Record<AlertNotice['event'], string> = {
  raised: '新告警',
  escalated: '告警已升级',
  test: '通知渠道测试',
};

const categoryText = (n: AlertNotice) =>
  n.category ? `${CATEGORY_ZH[n.category] ?? n.category}（${n.category}）` : n.kind;

export const noticeSubject = (n: AlertNotice) =>
  `[合规告警] ${EVENT_ZH[n.event]}：${SEVERITY_ZH[n.severity] ?? n.severity} · ${categoryText(n)} · ${n.corpId}`;

function noticeLines(n: AlertNotice): string[] {
  return [
    `类别：${categoryText(n)}`,
    `级别：${SEVERITY_ZH[n.severity] ?? n.severity}（${n.severity}）`,
    `企业：${n.corpId}`,
    `状态：${n.status}${n.escalationLevel > 0 ? `，已升级 ${n.escalationLevel} 级` : ''}`,
    `产生时间：${n.raisedAt}`,
    `处理时限：${n.dueAt ?? '无'}`,
    `告警编号：${n.alertId}`,
  ];
}

/** Sends one notice to one channel; throws SendError with a short reason on failure. */
export type Sender = (
  kind: NotificationChannelKind,
  target: ChannelTarget,
  notice: AlertNotice,
) => Promise<void>;

export function createSender(settings: WorkflowSettings): { send: Sender; close: () => void } {
  let mailer: Transporter | null = null;
  const mailerOf = () => {
    if (!settings.smtpUrl) throw new SendError('no SMTP relay configured (CZ_SMTP_URL)');
    mailer ??= nodemailer.createTransport({
      url: settings.smtpUrl,
      connectionTimeout: settings.requestTimeoutMs,
      greetingTimeout: settings.requestTimeoutMs,
      socketTimeout: settings.requestTimeoutMs,
    } as Parameters<typeof nodemailer.createTransport>[0]);
    return mailer;
  };

  const post = async (url: string, body: unknown): Promise<Response> => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(settings.requestTimeoutMs),
      });
      if (response.status < 200 || response.status > 299) {
        await response.body?.cancel();
        throw new SendError(`receiver answered HTTP ${response.status}`);
      }
      return response;
    } catch (err) {
      if (err instanceof SendError) throw err;
      const name = err instanceof Error ? err.name : '';
      if (name === 'TimeoutError' || name === 'AbortError')
        throw new SendError(`no answer within ${settings.requestTimeoutMs} ms`);
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw new SendError(`request failed: ${cause}`.slice(0, 200));
    }
  };

  const send: Sender = async (kind, target, notice) => {
    if (kind === 'webhook') {
      if (!target.url) throw new SendError('channel has no URL');
      const { event, ...fields } = notice;
      await post(target.url, { event, ...fields });
      return;
    }
    if (kind === 'wecom_robot') {
      if (!target.url) throw new SendError('channel has no URL');
      const content = [
        `**${EVENT_ZH[notice.event]}** <font color="warning">${SEVERITY_ZH[notice.severity] ?? notice.severity}</font>`,
        ...noticeLines(notice).map((line) => `> ${line}`),
        `[在控制台查看](${notice.consoleUrl})`,
      ].join('\n');
      const response = await post(target.url, { msgtype: 'markdown', markdown: { content } });
      let reply: { errcode?: unknown; errmsg?: unknown };
      try {
        reply = (await response.json()) as typeof reply;
      } catch {
        throw new SendError('robot answered without JSON');
      }
      if (reply.errcode !== 0)
        throw new SendError(`robot answered errcode ${String(reply.errcode)}`.slice(0, 200));
      return;
    }
    if (!target.to || target.to.length === 0) throw new SendError('channel has no recipients');
    try {
      await mailerOf().sendMail({
        from: settings.smtpFrom,
        to: target.to,
        subject: noticeSubject(notice),
        text: [...noticeLines(notice), `在控制台查看：${notice.consoleUrl}`, ''].join('\n'),
      });
    } catch (err) {
      if (err instanceof SendError) throw err;
      // the code and reply code only: the relay's text may quote recipients' addresses
      const { code, responseCode } = (err ?? {}) as { code?: string; responseCode?: number };
      throw new SendError(`SMTP relay failed: ${code ?? 'error'}${responseCode ? ` ${responseCode}` : ''}`);
    }
  };

  return { send, close: () => mailer?.close() };
}
