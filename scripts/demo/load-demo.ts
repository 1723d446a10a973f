/**
 * Posts a few hundred synthetic Chinese customer conversations through the real ingest API:
 * several branches, their account managers, retail customers, some of them with mis-selling
 * phrases (保本保息, 稳赚不赔, ...) and personal numbers, so every later feature has data to show.
 * Besides text, a realistic mix of the other WeCom message types: customers' consent (agree, a few
 * disagree), product brochures (file), links to risk disclosures, screenshots (image), voice notes,
 * forwarded chat records, locations, cards, and now and then a risky line the employee recalls.
 * And a few recorded customer calls: their CDRs through ingest with the call centre's transcript,
 * their audio (synthesised here) through the recordings service, as the call centre sends them.
 * Deterministic: the same run produces the same msgids and content, so re-running it archives
 * nothing twice (and raises no msgid conflicts).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { CallAccepted, CallDetailRecord, ErrorReply, IngestBatchReply } from '@cz/contracts';
import { wecomMediaId } from '@cz/common';
import { callerHeaders } from '@cz/testkit';
import { DEMO_CORP, demoCustomers, demoEmployees as employees, demoRandom } from './people';
import { complianceScenarioEvents, complianceScenarioMessages } from './compliance-scenarios';

const INGEST_URL = process.env.CZ_INGEST_URL ?? 'http://127.0.0.1:8081';
const RECORDINGS_URL = process.env.CZ_RECORDINGS_URL ?? 'http://127.0.0.1:8084';
const CORP_ID = DEMO_CORP;
const CONVERSATIONS = Number(process.env.CZ_DEMO_CONVERSATIONS ?? 300);

const random = demoRandom();
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const customers = demoCustomers(random);

const products = [
  '稳健理财30天',
  '天天利货币基金',
  '安心养老年金险',
  '鑫享定期存款',
  '成长混合基金',
  '结构性存款',
];
const greetings = [
  '您好，我是{branch}的客户经理{emp}，很高兴为您服务。',
  '{cust}您好，我是{branch}理财经理{emp}。',
  '早上好，{cust}，有空聊一下吗？',
];
const customerOpeners = [
  '我想了解一下{product}。',
  '最近有什么收益高一点的产品吗？',
  '上次说的{product}现在还能买吗？',
  '我这笔钱下个月到期，怎么安排比较好？',
];
const compliantPitches = [
  '{product}属于中低风险等级，历史年化业绩比较基准为3.2%–3.8%，过往业绩不代表未来表现。',
  '购买前需要先做风险测评，产品说明书我发您看一下。',
  '这款产品有30天封闭期，到期后可以赎回，请您仔细阅读风险揭示书。',
];
const riskyPitches = [
  '这个{product}保本保息，放心买，年化5个点没问题。',
  '说实话这个产品稳赚不赔，我自己也买了。',
  '这款是刚性兑付的，绝对无风险。',
  '您先私下转账给我，我帮您走内部渠道，收益更高。',
  '办下来给您返点，手续费我这边可以少收一点。',
  '需要交一点加急费，今天就能办好。',
];
const customerReplies = [
  '好的，我考虑一下。',
  '收益大概多少？',
  '有没有风险啊？',
  '那我明天去网点办理。',
  '可以，你把资料发我。',
  '我电话是{phone}，方便的时候打给我。',
  '谢谢{emp}经理。',
];
const closings = [
  '好的，有问题随时联系我。',
  '资料已发送，请查收。',
  '明天上午我在网点等您。',
  '稍后把合同模板发给您。',
];

const fill = (template: string, ctx: Record<string, string>) =>
  template.replace(/\{(\w+)\}/g, (_m, key: string) => ctx[key] ?? '');

interface DemoMessage {
  msgid: string;
  action: 'send';
  from: string;
  tolist: string[];
  roomid?: string;
  msgtime: number;
  msgtype: 'text';
  text: { content: string };
}

interface DemoConversation {
  c: number;
  emp: (typeof employees)[number];
  cust: (typeof customers)[number];
  roomid: string | undefined;
  others: string[];
  times: number[];
}
const conversationLog: DemoConversation[] = [];

function buildConversations(): DemoMessage[] {
  const messages: DemoMessage[] = [];
  const start = Date.UTC(2026, 9, 1, 1, 0); // 2026-10-01 09:00 Beijing
  for (let c = 0; c < CONVERSATIONS; c++) {
    const emp = pick(employees);
    const cust = pick(customers);
    const ctx = {
      branch: emp.branch,
      emp: emp.name,
      cust: cust.name,
      product: pick(products),
      phone: cust.phone,
    };
    const group = random() < 0.15;
    const colleague = pick(employees.filter((e) => e.branch === emp.branch && e !== emp));
    const roomid = group ? `wrDemoRoom${c}` : undefined;
    let time = start + Math.floor(random() * 55 * 86400000);
    const lines: { fromEmployee: boolean; text: string }[] = [
      { fromEmployee: true, text: fill(pick(greetings), ctx) },
      { fromEmployee: false, text: fill(pick(customerOpeners), ctx) },
      { fromEmployee: true, text: fill(random() < 0.25 ? pick(riskyPitches) : pick(compliantPitches), ctx) },
    ];
    const extra = 1 + Math.floor(random() * 6);
    for (let i = 0; i < extra; i++) {
      lines.push({ fromEmployee: false, text: fill(pick(customerReplies), ctx) });
      lines.push({
        fromEmployee: true,
        text: fill(random() < 0.1 ? pick(riskyPitches) : pick([...compliantPitches, ...closings]), ctx),
      });
    }
    const convo: DemoConversation = {
      c,
      emp,
      cust,
      roomid,
      others: group ? [cust.externalUserId, colleague.userid] : [cust.externalUserId],
      times: [],
    };
    conversationLog.push(convo);
    lines.forEach((line, i) => {
      time += 20000 + Math.floor(random() * 600000);
      convo.times.push(time);
      const from = line.fromEmployee ? emp.userid : cust.externalUserId;
      const others = group
        ? [emp.userid, cust.externalUserId, colleague.userid].filter((u) => u !== from)
        : [line.fromEmployee ? cust.externalUserId : emp.userid];
      messages.push({
        msgid: `demo-${c}-${i}`,
        action: 'send',
        from,
        tolist: others,
        ...(roomid ? { roomid } : {}),
        msgtime: time,
        msgtype: 'text',
        text: { content: line.text },
      });
    });
  }
  return messages;
}

// The other message types come from their own PRNG, so the text conversations above stay
// byte-for-byte what earlier versions of this script loaded.
const random2 = demoRandom(20261203);
const pick2 = <T>(items: readonly T[]): T => items[Math.floor(random2() * items.length)]!;
const fakeSdkFileId = (seed: string) =>
  Buffer.concat([
    Buffer.from([0x0a, 0xd6, 0x01]),
    ...Array.from({ length: 8 }, (_, i) => createHash('sha256').update(`${seed}#${i}`).digest()),
  ]).toString('base64');
const md5 = (seed: string) => createHash('md5').update(seed).digest('hex');
const md5Of = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

/**
 * The bytes behind image, voice and PDF messages, uploaded to the recordings service the way the
 * puller stores what it fetched from WeCom, so the console can open them. Screenshots are drawn by
 * ffmpeg (installed with the stack); without it the messages keep references only.
 */
interface DemoMedia {
  sdkfileid: string;
  bytes: Buffer;
  contentType: string;
}
const mediaUploads: DemoMedia[] = [];
const SCREENSHOT_CAPTIONS = [
  '演示截图 · 稳健理财30天 七日年化走势',
  '演示截图 · 转账成功 ¥50,000.00',
  '演示截图 · 风险测评结果：稳健型（C3）',
  '演示截图 · 天天利货币基金 持仓明细',
];
const screenshots = new Map<number, Buffer | null>();
function screenshot(index: number): Buffer | null {
  if (!screenshots.has(index)) {
    let png: Buffer | null = null;
    try {
      const font = execFileSync('fc-match', ['-f', '%{file}', 'Noto Sans CJK SC'], { encoding: 'utf8' });
      const caption = SCREENSHOT_CAPTIONS[index]!.replace(/[:'\\]/g, ' ');
      png = execFileSync(
        'ffmpeg',
        [
          ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'],
          ...['-i', `gradients=s=720x450:c0=0x1f4e8c:c1=0x8fb3e0:seed=${index + 1},format=rgb24`],
          ...['-frames:v', '1', '-vf'],
          `drawtext=fontfile=${font}:text='${caption}':fontsize=30:fontcolor=white:x=(w-text_w)/2:y=(h-text_h)/2`,
          ...['-f', 'image2pipe', '-vcodec', 'png', '-'],
        ],
        { maxBuffer: 16 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (err) {
      console.warn(
        `demo: no screenshot drawn (${(err as Error).message.split('\n')[0]}); images stay references`,
      );
    }
    screenshots.set(index, png);
  }
  return screenshots.get(index) ?? null;
}
/** An AMR-NB voice note in WeCom's storage format: 12.2 kbit/s frames of near-silence, 50 per second. */
function voiceNote(seconds: number): Buffer {
  const frame = Buffer.concat([Buffer.from([0x3c]), Buffer.alloc(31)]);
  return Buffer.concat([
    Buffer.from('#!AMR\n', 'latin1'),
    ...Array.from({ length: seconds * 50 }, () => frame),
  ]);
}
/** A one-page PDF naming the (ASCII) document id: enough for a browser to open. */
function brochurePdf(documentId: string): Buffer {
  const text = `Cunzheng demo document ${documentId}`;
  const stream = `BT /F1 18 Tf 60 760 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) body += `${String(offset).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}
/** Registers media bytes for upload; returns md5 and size for the message's fields. */
function withMedia(sdkfileid: string, bytes: Buffer | null, contentType: string) {
  if (!bytes) return null;
  mediaUploads.push({ sdkfileid, bytes, contentType });
  return { md5sum: md5Of(bytes), size: bytes.length };
}

const brochures = [
  '稳健理财30天产品说明书.pdf',
  '天天利货币基金合同.pdf',
  '安心养老年金险条款.pdf',
  '结构性存款风险揭示书.pdf',
  '2026年四季度资产配置建议.pptx',
  '个人客户风险测评问卷.docx',
];
const links = [
  {
    title: '理财产品风险揭示书',
    description: '购买前请仔细阅读产品说明书和风险揭示书',
    link_url: 'https://www.demo-bank.example.cn/wealth/risk-disclosure',
  },
  {
    title: '天天利货币基金七日年化收益率走势',
    description: '过往业绩不代表未来表现',
    link_url: 'https://www.demo-bank.example.cn/funds/ttl/yield',
  },
  {
    title: '手机银行线上开户指南',
    description: '三步完成开户，全程约5分钟',
    link_url: 'https://www.demo-bank.example.cn/guide/open-account',
  },
];
const recalledLines = [
  '这款产品保本保息，您放心买。',
  '您先私下转账给我，我帮您操作。',
  '这个绝对无风险，稳赚不赔。',
];

function buildOtherTypes(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const convo of conversationLog) {
    const { c, emp, cust, roomid, others } = convo;
    const at = (index: number, offset: number) =>
      (convo.times[Math.min(index, convo.times.length - 1)] ?? 0) + offset;
    const envelope = (suffix: string, from: string, msgtime: number) => ({
      msgid: `demo-${c}-${suffix}`,
      action: 'send',
      from,
      tolist: from === emp.userid ? others : [emp.userid, ...others.filter((u) => u !== from)],
      ...(roomid ? { roomid } : {}),
      msgtime,
    });
    // consent first: the customer's agree (rarely disagree) shortly before the first message
    const consent = random2();
    if (!roomid && consent < 0.45) {
      const decision = consent < 0.03 ? 'disagree' : 'agree';
      const when = at(0, -60000);
      out.push({
        ...envelope('consent', cust.externalUserId, when),
        msgtype: decision,
        [decision]: { userid: cust.externalUserId, [`${decision}_time`]: when - 2000 },
      });
    }
    if (random2() < 0.3) {
      const filename = pick2(brochures);
      const seed = `demo-${c}-file`;
      const envelopeFields = envelope('file', emp.userid, at(2, 15000));
      const filesize = 80000 + Math.floor(random2() * 4_000_000);
      const sdkfileid = fakeSdkFileId(seed);
      const stored = filename.endsWith('.pdf')
        ? withMedia(sdkfileid, brochurePdf(seed), 'application/pdf')
        : null;
      out.push({
        ...envelopeFields,
        msgtype: 'file',
        file: {
          md5sum: stored?.md5sum ?? md5(seed),
          filename,
          fileext: filename.split('.').pop(),
          filesize: stored?.size ?? filesize,
          sdkfileid,
        },
      });
    }
    if (random2() < 0.2) {
      out.push({ ...envelope('link', emp.userid, at(3, 12000)), msgtype: 'link', link: pick2(links) });
    }
    if (random2() < 0.15) {
      const seed = `demo-${c}-image`;
      const envelopeFields = envelope('image', cust.externalUserId, at(1, 20000));
      const filesize = 40000 + Math.floor(random2() * 900000);
      const sdkfileid = fakeSdkFileId(seed);
      const stored = withMedia(sdkfileid, screenshot(c % SCREENSHOT_CAPTIONS.length), 'image/png');
      out.push({
        ...envelopeFields,
        msgtype: 'image',
        image: { md5sum: stored?.md5sum ?? md5(seed), filesize: stored?.size ?? filesize, sdkfileid },
      });
    }
    if (random2() < 0.1) {
      const seed = `demo-${c}-voice`;
      const envelopeFields = envelope('voice', cust.externalUserId, at(4, 9000));
      random2(); // was the random voice_size; kept so the rest of the demo stays as it was
      const playLength = 2 + Math.floor(random2() * 58);
      const sdkfileid = fakeSdkFileId(seed);
      const stored = withMedia(sdkfileid, voiceNote(playLength), 'audio/amr')!;
      out.push({
        ...envelopeFields,
        msgtype: 'voice',
        voice: { md5sum: stored.md5sum, voice_size: stored.size, play_length: playLength, sdkfileid },
      });
    }
    const extra = random2();
    if (extra < 0.04) {
      out.push({
        ...envelope('location', cust.externalUserId, at(5, 8000)),
        msgtype: 'location',
        location: {
          longitude: 121.5 + random2() / 10,
          latitude: 31.2 + random2() / 10,
          address: `${emp.branch}营业部附近`,
          title: `${emp.branch}营业部`,
          zoom: 15,
        },
      });
    } else if (extra < 0.07) {
      out.push({
        ...envelope('card', emp.userid, at(5, 8000)),
        msgtype: 'card',
        card: { corpname: `演示银行${emp.branch}`, userid: emp.userid },
      });
    } else if (extra < 0.1) {
      out.push({
        ...envelope('chatrecord', emp.userid, at(5, 8000)),
        msgtype: 'chatrecord',
        chatrecord: {
          title: `${cust.name}的咨询记录`,
          item: [
            {
              type: 'ChatRecordText',
              msgtime: Math.floor(at(1, 0) / 1000),
              content: JSON.stringify({ content: `${cust.name}想了解${pick2(products)}` }),
              from_chatroom: false,
            },
          ],
        },
      });
    }
    // now and then a risky line, recalled (撤回) a few seconds later: both stay archived
    if (random2() < 0.05) {
      const said = at(2, 30000);
      const original = envelope('risky', emp.userid, said);
      out.push({ ...original, msgtype: 'text', text: { content: pick2(recalledLines) } });
      out.push({
        ...envelope('recall', emp.userid, said + 5000 + Math.floor(random2() * 60000)),
        action: 'recall',
        msgtype: 'revoke',
        revoke: { pre_msgid: original.msgid },
      });
    }
  }
  return out;
}

const messages: { msgtype?: unknown }[] = [...buildConversations(), ...buildOtherTypes()];
let accepted = 0;
for (let i = 0; i < messages.length; i += 500) {
  const batch = messages.slice(i, i + 500);
  const res = await fetch(`${INGEST_URL}/v1/wecom/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...callerHeaders() },
    body: JSON.stringify({ corpId: CORP_ID, messages: batch }),
  });
  const body = (await res.json()) as IngestBatchReply | { code: string; message: string };
  if (res.status !== 202 || !('accepted' in body)) {
    console.error(`demo batch at ${i} failed: HTTP ${res.status} ${JSON.stringify(body).slice(0, 500)}`);
    process.exit(1);
  }
  accepted += body.accepted.length;
}
// the compliance scenarios (mis-selling, evasions, a complaint two days old, negations …): the
// compliance service finds their alerts, nothing here raises one
const scenarios = complianceScenarioMessages();
for (const [url, payload] of [
  ['/v1/wecom/messages', { corpId: CORP_ID, messages: scenarios }],
  ['/v1/events', { corpId: CORP_ID, events: complianceScenarioEvents() }],
] as const) {
  const res = await fetch(`${INGEST_URL}${url}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...callerHeaders() },
    body: JSON.stringify(payload),
  });
  if (res.status !== 202) {
    console.error(
      `demo compliance scenarios (${url}) failed: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`,
    );
    process.exit(1);
  }
}
accepted += scenarios.length;
// the attachments' bytes, as the puller stores them after fetching them from WeCom (idempotent)
let uploaded = 0;
for (const media of mediaUploads) {
  const res = await fetch(`${RECORDINGS_URL}/v1/media/${CORP_ID}/${wecomMediaId(media.sdkfileid)}`, {
    method: 'PUT',
    headers: {
      'content-type': media.contentType,
      'x-cz-md5': md5Of(media.bytes),
      ...callerHeaders(),
    },
    body: media.bytes,
  });
  if (res.status !== 200 && res.status !== 201) {
    console.error(`demo media upload failed: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    process.exit(1);
  }
  uploaded += 1;
}
// ---------------------------------------------------------------------------------------------
// Recorded calls: a handful of outbound and inbound calls of the demo employees with the demo
// customers, each with the call centre's transcript in its CDR (the path a call centre with its
// own ASR takes; the recordings service's ASR hook is for the others) and a recording. Built
// without any PRNG, so neither the chats above nor the calls change when the other does.

interface CallLine {
  agent: boolean;
  text: string;
}
const callScripts: { businessType: string; lines: (ctx: Record<string, string>) => CallLine[] }[] = [
  {
    businessType: '理财',
    lines: (ctx) => [
      {
        agent: true,
        text: fill('您好，我是{branch}的客户经理{emp}，本次通话将被录音。请问是{cust}吗？', ctx),
      },
      { agent: false, text: '是的，你说。' },
      {
        agent: true,
        text: fill(
          '您的稳健理财30天下周到期，想跟您确认一下到期后的安排。这款产品属于中低风险，过往业绩不代表未来表现。',
          ctx,
        ),
      },
      { agent: false, text: '到期以后我想先放活期，再看看。' },
      { agent: true, text: '好的，到期资金会自动回到您的账户，有问题随时联系我。' },
    ],
  },
  {
    businessType: '基金',
    lines: (ctx) => [
      { agent: false, text: fill('喂，{emp}经理吗？我想问一下成长混合基金最近怎么样。', ctx) },
      {
        agent: true,
        text: fill('{cust}您好，本次通话将被录音。这只基金近期有波动，购买前需要先做风险测评。', ctx),
      },
      { agent: false, text: '那我明天去网点做一下测评。' },
      { agent: true, text: '好的，明天上午我在网点等您，产品说明书我先发您看一下。' },
    ],
  },
  {
    businessType: '保险',
    lines: (ctx) => [
      { agent: true, text: fill('{cust}您好，我是{branch}的{emp}，本次通话将被录音。', ctx) },
      { agent: true, text: '上次您问的安心养老年金险，条款我整理好了，犹豫期是十五天。' },
      { agent: false, text: '每年要交多少钱？' },
      { agent: true, text: '要看您选的缴费年限，我把测算表发到您的企业微信上。' },
      { agent: false, text: '好的，谢谢。' },
    ],
  },
  {
    businessType: '理财',
    lines: (ctx) => [
      { agent: true, text: fill('{cust}您好，我是{branch}理财经理{emp}，这个电话会录音。', ctx) },
      { agent: false, text: '最近有什么收益高一点的产品吗？' },
      // the risky call: a promise of guaranteed returns, for the compliance features to find
      { agent: true, text: fill('这个成长混合基金保本保息，放心买，年化5个点没问题。', ctx) },
      { agent: false, text: '真的没有风险吗？' },
      { agent: true, text: '您放心，我们很多客户都买了，下午我把合同模板发给您。' },
    ],
  },
  {
    businessType: '存款',
    lines: (ctx) => [
      { agent: false, text: fill('你好，我想问一下鑫享定期存款的利率。', ctx) },
      {
        agent: true,
        text: fill('{cust}您好，本次通话将被录音。目前三个月期的挂牌利率在网点和手机银行都能查到。', ctx),
      },
      { agent: false, text: '可以线上办理吗？' },
      { agent: true, text: '可以的，手机银行线上开户指南我稍后发给您。' },
    ],
  },
  {
    businessType: '信用卡',
    lines: (ctx) => [
      { agent: true, text: fill('{cust}您好，我是{branch}的{emp}，本次通话将被录音。', ctx) },
      { agent: true, text: '您申请的信用卡已经审批通过，卡片会在五个工作日内寄出。' },
      { agent: false, text: '好的，收到以后怎么激活？' },
      { agent: true, text: '在手机银行或者拨打卡片背面的客服电话都可以激活。' },
    ],
  },
];
const CALLS = 8;
/** One syllable per character, pauses between turns: about how long the transcript takes to say. */
const SYLLABLE_SECONDS = 0.2;
const TURN_PAUSE_SECONDS = 0.6;
const SAMPLE_RATE = 8000;

/**
 * A mono 16-bit 8 kHz PCM WAV, the call centre's usual recording format: a voiced buzz per
 * character, lower for the employee than for the customer, with a pitch contour like the four
 * Mandarin tones, and silence between turns. Not speech, but clearly two voices taking turns.
 */
function callAudio(lines: CallLine[]): Buffer {
  const samples: number[] = [];
  const syllable = Math.round(SYLLABLE_SECONDS * SAMPLE_RATE);
  for (const line of lines) {
    const base = line.agent ? 140 : 220;
    for (const char of line.text) {
      const code = char.codePointAt(0) ?? 0;
      const isPunctuation = /[\p{P}\s]/u.test(char);
      const tone = code % 4; // 0 flat, 1 rising, 2 dipping, 3 falling
      let phase = 0;
      for (let n = 0; n < syllable; n++) {
        const x = n / syllable;
        const contour = [1, 0.85 + 0.3 * x, 1 - 0.6 * x * (1 - x) * 2, 1.2 - 0.4 * x][tone]!;
        phase += (2 * Math.PI * base * contour) / SAMPLE_RATE;
        const envelope = isPunctuation ? 0 : Math.sin(Math.PI * x) ** 2;
        const voiced = Math.sin(phase) + 0.5 * Math.sin(2 * phase) + 0.25 * Math.sin(3 * phase);
        samples.push(Math.round(9000 * envelope * voiced));
      }
    }
    for (let n = 0; n < TURN_PAUSE_SECONDS * SAMPLE_RATE; n++) samples.push(0);
  }
  const pcm = Buffer.alloc(samples.length * 2);
  samples.forEach((sample, i) => pcm.writeInt16LE(sample, i * 2));
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(36 + pcm.length, 4);
  head.write('WAVEfmt ', 8, 'latin1');
  head.writeUInt32LE(16, 16); // fmt chunk size
  head.writeUInt16LE(1, 20); // PCM
  head.writeUInt16LE(1, 22); // mono
  head.writeUInt32LE(SAMPLE_RATE, 24);
  head.writeUInt32LE(SAMPLE_RATE * 2, 28); // byte rate
  head.writeUInt16LE(2, 32); // block align
  head.writeUInt16LE(16, 34); // bits per sample
  head.write('data', 36, 'latin1');
  head.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([head, pcm]);
}

interface DemoCall {
  cdr: CallDetailRecord;
  audio: Buffer;
}
function buildCalls(): DemoCall[] {
  return Array.from({ length: CALLS }, (_, i) => {
    const emp = employees[(i * 7) % employees.length]!; // every branch, different managers
    const cust = customers[(i * 37 + 11) % customers.length]!;
    const script = callScripts[i % callScripts.length]!;
    const ctx = { branch: emp.branch, emp: emp.name, cust: cust.name };
    const lines = script.lines(ctx);
    const audio = callAudio(lines);
    const seconds = Math.ceil((audio.length - 44) / 2 / SAMPLE_RATE);
    // 2026-11-02 onwards, one call a day between 10:00 and 16:00 Beijing time
    const start = Date.UTC(2026, 10, 2 + i, 2 + ((i * 5) % 7), (i * 13) % 60);
    const cdr: CallDetailRecord = {
      corpId: CORP_ID,
      callId: `DEMO-CALL-${String(i + 1).padStart(3, '0')}`,
      agentId: emp.userid,
      customerNumber: cust.phone,
      direction: lines[0]!.agent ? 'outbound' : 'inbound',
      startTime: new Date(start).toISOString(),
      endTime: new Date(start + seconds * 1000).toISOString(),
      businessType: script.businessType,
      transcript: {
        text: lines.map((line) => `${line.agent ? '坐席' : '客户'}：${line.text}`).join('\n'),
        language: 'zh-CN',
      },
    };
    return { cdr, audio };
  });
}

const CALL_ARCHIVE_TIMEOUT_MS = 120_000;

/**
 * Stores a call's recording once its CDR is archived (the recordings service answers 409
 * `call_not_archived` until then). A recording already stored by an earlier run is answered 200
 * (the same audio: nothing stored again); archived recordings never change. Returns whether this
 * run stored it.
 */
async function uploadRecording(call: DemoCall): Promise<boolean> {
  const deadline = Date.now() + CALL_ARCHIVE_TIMEOUT_MS;
  const url = `${RECORDINGS_URL}/v1/recordings/${call.cdr.callId}?corpId=${encodeURIComponent(CORP_ID)}`;
  for (;;) {
    const res = await fetch(url, {
      method: 'PUT',
      headers: {
        'content-type': 'audio/wav',
        ...callerHeaders(),
      },
      body: call.audio,
    });
    if (res.status === 201) return true;
    if (res.status === 200) return false;
    const reply = (await res.json().catch(() => ({}))) as Partial<ErrorReply>;
    if (res.status === 409 && reply.code === 'call_not_archived' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      continue;
    }
    console.error(
      `demo recording of ${call.cdr.callId} failed: HTTP ${res.status} ${JSON.stringify(reply).slice(0, 300)}`,
    );
    process.exit(1);
  }
}

const calls = buildCalls();
for (const { cdr } of calls) {
  const res = await fetch(`${INGEST_URL}/v1/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...callerHeaders() },
    body: JSON.stringify(cdr),
  });
  const body = (await res.json()) as CallAccepted | ErrorReply;
  if (res.status !== 202) {
    console.error(`demo call ${cdr.callId} failed: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    process.exit(1);
  }
}
let recordingsStored = 0;
for (const call of calls) if (await uploadRecording(call)) recordingsStored += 1;
const byType = new Map<string, number>();
for (const m of messages) byType.set(String(m.msgtype), (byType.get(String(m.msgtype)) ?? 0) + 1);
console.log(
  `demo data: ${CONVERSATIONS} conversations, ${accepted} messages accepted by ingest (corp ${CORP_ID}): ` +
    [...byType].map(([type, n]) => `${type} ${n}`).join(', ') +
    `; ${uploaded} attachments stored; ${calls.length} calls with transcripts accepted, ` +
    `${recordingsStored} recordings stored (${calls.length - recordingsStored} already were)`,
);
