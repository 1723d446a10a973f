import type { MessageView } from '@cz/contracts';
import { i18n } from '@/locales';

/**
 * Every WeCom msgtype the archive knows (issue 4 list, plus types seen in the field such as
 * meeting_notification and product_card). Labels live in the locales under `msgtype.*`; the
 * search filter offers these.
 */
export const KNOWN_MSGTYPES = [
  'text',
  'image',
  'voice',
  'video',
  'file',
  'link',
  'emotion',
  'location',
  'card',
  'weapp',
  'chatrecord',
  'mixed',
  'markdown',
  'news',
  'revoke',
  'agree',
  'disagree',
  'todo',
  'vote',
  'collect',
  'redpacket',
  'external_redpacket',
  'meeting',
  'meeting_notification',
  'meeting_voice_call',
  'voip_doc_share',
  'voiptext',
  'docmsg',
  'calendar',
  'sphfeed',
  'qydiskfile',
  'product_card',
] as const;

export function msgtypeLabel(msgtype: string): string {
  const { t, te } = i18n.global;
  return te(`msgtype.${msgtype}`) ? t(`msgtype.${msgtype}`) : t('msgtype.unknown');
}

/** The type shown for a message: its msgtype, or its action for recall and corp-switch records. */
export function messageTypeLabel(message: Pick<MessageView, 'msgtype' | 'action' | 'unknownType'>): string {
  const { t, te } = i18n.global;
  if (message.msgtype === null) {
    return te(`messageAction.${message.action}`) ? t(`messageAction.${message.action}`) : message.action;
  }
  if (message.unknownType) return t('msgtype.unknown');
  return msgtypeLabel(message.msgtype);
}

/** Records that are events rather than something a person wrote (shown as a centred notice). */
export function isNoticeRecord(message: Pick<MessageView, 'msgtype' | 'action'>): boolean {
  return (
    message.action !== 'send' ||
    message.msgtype === 'revoke' ||
    message.msgtype === 'agree' ||
    message.msgtype === 'disagree'
  );
}
