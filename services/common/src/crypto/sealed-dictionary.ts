/*
 * Preset dictionary 1 of sealed format v2's compression (raw DEFLATE, RFC 1951, with a preset
 * dictionary as zlib's `dictionary` option). Records are small JSON documents with the same keys
 * every time; without a dictionary DEFLATE has nothing to refer back to in a 600-byte record.
 * FROZEN: objects sealed with flag "dictionary 1" need exactly these bytes to open, forever (the
 * golden vectors pin them). A better dictionary is a new flag value, never an edit of this one.
 * Later bytes are cheaper to refer to, so the most common fragments come last.
 */
const FRAGMENTS = [
  '{"userid":"","name":"',
  '{"externalUserId":"wm',
  '"detail":{"reason":"","otherMsgids":[""]},"fromSeq":,"toSeq":,"msgid":"',
  '{"schema":"cz.alert.v1","id":"","corpId":"ww","kind":"integrity.binding","severity":"critical","source":"archiver","raisedAt":17',
  '"roomId":"wr","url":"https://","title":"',
  '{"schema":"cz.event.v1","id":"","corpId":"","event":{"type":"consent_given","eventId":"","occurredAt":"2026-01-01T00:00:00+08:00","staffId":"',
  '","customer":{"externalUserId":"wm","phone":"1"},"category":"marketing.","channel":"wecom"},"receivedAt":17',
  ',"customerIndex":"","phoneIndex":"',
  '{"schema":"cz.call.v1","kind":"cdr","id":"","corpId":"","callId":"","agentId":"agent-","customerNumber":"1',
  '","customerIndex":"","direction":"inbound","startTime":17,"endTime":17,"businessType":"","caseId":"","campaign":"',
  '","transcript":{"text":"","language":"zh-CN"},"receivedAt":17',
  '"media":[{"kind":"image","sdkfileid":"","md5sum":"","filesize":}],"msgtype":"image","image":{"md5sum":"","filesize":',
  '"roomid":"wr","seq":',
  '{"schema":"cz.msg.v1","id":"',
  '","corpId":"ww","msgid":"","action":"send","from":"wm","tolist":["","wm"],"conversationId":"p:',
  '","msgtime":17,"text":"","raw":{"msgid":"","action":"send","from":"","tolist":["',
  '"],"msgtime":17,"msgtype":"text","text":{"content":"',
  '"}},"receivedAt":17',
  ',"media":[],"msgtype":"text","contentMac":"',
];

export const SEALED_DICTIONARY_1 = Buffer.from(FRAGMENTS.join(''), 'utf8');
