/**
 * Demo conversations for the compliance engine: what a risk officer's inbox looks like after a
 * few days in a bank. The engine (not this script) finds the alerts when the messages flow through
 * ingest → Kafka → compliance: mis-selling, evasions (spaced characters, traditional script,
 * pinyin), private dealing, kickbacks, collection abuse, a complaint from two days ago (its 24 h
 * SLA is overdue: it escalates), neutral chat and negations that must raise nothing.
 *
 * Times are relative to the hour the demo is loaded, and that hour is part of each msgid, so a
 * re-run within the hour posts the same records (idempotent) and a later re-run adds a new set.
 */
import { DEMO_CORP, demoEmployees } from './people';

const HOUR_MS = 3600000;

/** The hour of the load (whole hours: the same times and ids on every re-run within it). */
function loadHour(now: number) {
  const hourStart = Math.floor(now / HOUR_MS) * HOUR_MS;
  return { hourStart, key: new Date(hourStart).toISOString().slice(0, 13).replace(/[-T]/g, '') };
}

interface ScenarioLine {
  /** true: the account manager speaks; false: the customer */
  employee: boolean;
  text: string;
}

interface Scenario {
  /** short name in the msgid */
  name: string;
  /** hours before the load's hour the conversation started */
  hoursAgo: number;
  employee: number;
  customer: string;
  lines: ScenarioLine[];
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'misselling',
    hoursAgo: 3,
    employee: 0,
    customer: 'wmDemoCx01',
    lines: [
      { employee: false, text: '我有五十万下个月到期，想找个稳一点的产品。' },
      { employee: true, text: '这款结构性存款保本保息，到期刚性兑付，您放心。' },
      { employee: false, text: '真的一点风险都没有吗？' },
      { employee: true, text: '绝对无风险，稳赚不赔，我自己也买了。' },
    ],
  },
  {
    name: 'evasion',
    hoursAgo: 5,
    employee: 7,
    customer: 'wmDemoCx02',
    lines: [
      { employee: true, text: '这边不方便细说，您加 微 信 聊，我把私人号发您。' },
      { employee: false, text: '收益真有那么高？' },
      { employee: true, text: '穩賺不賠的，年化12%，baoben的。' },
    ],
  },
  {
    name: 'private',
    hoursAgo: 20,
    employee: 13,
    customer: 'wmDemoCx03',
    lines: [
      { employee: false, text: '贷款能快点批下来吗？' },
      { employee: true, text: '交两千块加急费，您私下转账到我个人账户就行，办下来再给您返点。' },
    ],
  },
  {
    name: 'collection',
    hoursAgo: 9,
    employee: 20,
    customer: 'wmDemoCx04',
    lines: [
      { employee: true, text: '您的信用卡已经逾期三个月了。' },
      { employee: false, text: '这个月实在困难，下个月一定还。' },
      { employee: true, text: '再不还钱就去你单位找你领导，让你全家都知道你是老赖。' },
    ],
  },
  {
    name: 'complaint',
    hoursAgo: 50,
    employee: 26,
    customer: 'wmDemoCx05',
    lines: [
      { employee: false, text: '你们乱扣我手续费，我要投诉，再不处理我就打12378找银保监会。' },
      { employee: true, text: '非常抱歉，我马上帮您核实。' },
    ],
  },
  {
    name: 'personal',
    hoursAgo: 1,
    employee: 31,
    customer: 'wmDemoCx06',
    lines: [
      { employee: true, text: '为了帮您激活，请把短信验证码和银行卡密码发给我。' },
      { employee: false, text: '这个可以发吗？' },
    ],
  },
  {
    name: 'negation',
    hoursAgo: 2,
    employee: 4,
    customer: 'wmDemoCx07',
    lines: [
      { employee: false, text: '这个理财有风险吗？' },
      { employee: true, text: '这款产品不保本，过往业绩不代表未来表现，请您仔细阅读风险揭示书。' },
      { employee: true, text: '请勿私下转账，我们不收取任何加急费，所有费用以合同为准。' },
      { employee: false, text: '好的，明天上午去网点办理。' },
    ],
  },
];

export interface ScenarioMessage {
  msgid: string;
  action: 'send';
  from: string;
  tolist: string[];
  msgtime: number;
  msgtype: 'text';
  text: { content: string };
}

/** The scenario messages for a load at `now`. */
export function complianceScenarioMessages(now = Date.now()): ScenarioMessage[] {
  const { key, hourStart } = loadHour(now);
  return SCENARIOS.flatMap((s) => {
    const employee = demoEmployees[s.employee % demoEmployees.length]!.userid;
    const start = hourStart - s.hoursAgo * HOUR_MS;
    return s.lines.map((line, i) => ({
      msgid: `demo-cx-${key}-${s.name}-${i}`,
      action: 'send' as const,
      from: line.employee ? employee : s.customer,
      tolist: [line.employee ? s.customer : employee],
      msgtime: start + i * 90000,
      msgtype: 'text' as const,
      text: { content: line.text },
    }));
  });
}

/** An SMS a manager sent (a behaviour event): scanned like chat. */
export function complianceScenarioEvents(now = Date.now()) {
  const { key, hourStart } = loadHour(now);
  return [
    {
      type: 'sms_sent' as const,
      eventId: `demo-cx-${key}-sms-0`,
      occurredAt: new Date(hourStart - 4 * HOUR_MS).toISOString(),
      staffId: demoEmployees[2]!.userid,
      customer: { phone: '13900001234' },
      content: '【演示银行】尊敬的客户，新品保本保息年化8%，闪电贷无抵押当天放款，详询客户经理。',
    },
  ];
}

/** The msgids of the conversation that must raise nothing (negations and neutral chat). */
export const quietScenarioPrefix = (now = Date.now()) => `demo-cx-${loadHour(now).key}-negation-`;

export { DEMO_CORP };
