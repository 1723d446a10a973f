/**
 * The demo bank's organisation: head office, five branches, six account managers each. Shared by
 * the demo conversations (load-demo.ts) and the demo directory and data scopes (seed-users.ts).
 */
import type { DirectoryLoad } from '@cz/contracts';

export const DEMO_CORP = process.env.CZ_DEMO_CORP ?? 'ww_demo_bank';

export const DEMO_HEAD_OFFICE = { id: 'hq', name: '总行' };
export const DEMO_BRANCHES = [
  { id: 'pudong', name: '浦东分行' },
  { id: 'xuhui', name: '徐汇支行' },
  { id: 'futian', name: '深圳福田支行' },
  { id: 'chaoyang', name: '北京朝阳支行' },
  { id: 'xihu', name: '杭州西湖支行' },
];
export const surnames = [
  '王',
  '李',
  '张',
  '刘',
  '陈',
  '杨',
  '赵',
  '黄',
  '周',
  '吴',
  '徐',
  '孙',
  '马',
  '朱',
  '胡',
];
const givenNames = [
  '伟',
  '芳',
  '娜',
  '敏',
  '静',
  '磊',
  '洋',
  '艳',
  '勇',
  '军',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '霞',
];
const pinyin: Record<string, string> = {
  王: 'wang',
  李: 'li',
  张: 'zhang',
  刘: 'liu',
  陈: 'chen',
  杨: 'yang',
  赵: 'zhao',
  黄: 'huang',
  周: 'zhou',
  吴: 'wu',
  徐: 'xu',
  孙: 'sun',
  马: 'ma',
  朱: 'zhu',
  胡: 'hu',
  伟: 'wei',
  芳: 'fang',
  娜: 'na',
  敏: 'min',
  静: 'jing',
  磊: 'lei',
  洋: 'yang',
  艳: 'yan',
  勇: 'yong',
  军: 'jun',
  杰: 'jie',
  娟: 'juan',
  涛: 'tao',
  明: 'ming',
  超: 'chao',
  霞: 'xia',
};

/** Six account managers per branch; userids are pinyin + branch + index. */
export const demoEmployees = DEMO_BRANCHES.flatMap(({ id, name: branch }, b) =>
  Array.from({ length: 6 }, (_, i) => {
    const s = surnames[(b * 6 + i) % surnames.length]!;
    const g = givenNames[(b * 7 + i * 3) % givenNames.length]!;
    return { userid: `${pinyin[s]}${pinyin[g]}${b}${i}`, name: `${s}${g}`, branch, orgUnitId: id };
  }),
);

/** The directory load of the demo corp: the org tree and the employees (no customers). */
export const demoDirectory = (): DirectoryLoad => ({
  orgUnits: [
    { ...DEMO_HEAD_OFFICE, parentId: null },
    ...DEMO_BRANCHES.map((b) => ({ ...b, parentId: DEMO_HEAD_OFFICE.id })),
  ],
  employees: demoEmployees.map((e) => ({ userid: e.userid, orgUnitId: e.orgUnitId, name: e.name })),
});

/** The demo data's seeded random stream (mulberry32), so demo data is reproducible. */
export function demoRandom(seed = 20261125): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The demo bank's 400 retail customers, the first draws of `random` (load-demo.ts goes on with the
 * same stream). Their phone numbers and names are personal data: scripts/check-logs.ts makes sure
 * no log ever carries them.
 */
export function demoCustomers(random: () => number = demoRandom()) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  return Array.from({ length: 400 }, (_, i) => ({
    externalUserId: `wmDemo${(100000 + i * 7919).toString(36)}`,
    phone: `1${pick(['38', '39', '58', '86', '37'])}${String(Math.floor(random() * 1e8)).padStart(8, '0')}`,
    name: `${pick(surnames)}${pick(['先生', '女士'])}`,
  }));
}
