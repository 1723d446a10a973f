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
