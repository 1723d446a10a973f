/**
 * The engine's acceptance corpus against the default lexicon: each text with the rules it must
 * raise, no more, no fewer (`hits` lists each rule with the original characters it must cover).
 * Evasions are written the way people type them; negations and allow-listed phrases, ordinary
 * banking chat and English must raise nothing.
 */
export interface CorpusCase {
  /** what the case shows */
  name: string;
  text: string;
  /** rule id → the original text the hit must cover (text.slice(start, end)) */
  hits: Record<string, string>;
}

export const EVASIONS: CorpusCase[] = [
  { name: 'plain term', text: '这款产品保本保息，您放心', hits: { 'gr-001': '保本保息' } },
  { name: 'spaces between characters', text: '保 本 保 息', hits: { 'gr-001': '保 本 保 息' } },
  { name: 'punctuation between characters', text: '保-本-保-息的', hits: { 'gr-001': '保-本-保-息' } },
  { name: 'emoji between characters', text: '加😀微😀信聊', hits: { 'op-001': '加😀微😀信' } },
  {
    name: 'zero-width characters between',
    text: '加\u200b微\u200b信',
    hits: { 'op-001': '加\u200b微\u200b信' },
  },
  { name: 'full-width letters', text: '有事加ＱＱ说', hits: { 'op-009': '加ＱＱ' } },
  { name: 'upper case', text: '拉你进个QQ群', hits: { 'op-012': 'QQ群' } },
  { name: 'pinyin', text: 'baobenbaoxi de', hits: { 'gr-001': 'baobenbaoxi' } },
  { name: 'pinyin with spaces', text: 'bao ben bao xi', hits: { 'gr-001': 'bao ben bao xi' } },
  { name: 'pinyin initials', text: '方便的话 jwx', hits: { 'op-001': 'jwx' } },
  { name: 'initials mixed with characters', text: '这是bb理财产品', hits: { 'gr-002': 'bb理财' } },
  { name: 'characters mixed with pinyin', text: '加weixin吧', hits: { 'op-001': '加weixin' } },
  { name: 'traditional script', text: '穩賺不賠的', hits: { 'gr-006': '穩賺不賠' } },
  { name: 'traditional script, longer term', text: '我們剛性兌付', hits: { 'gr-004': '剛性兌付' } },
  { name: 'homophone character', text: '加薇信详聊', hits: { 'op-001': '加薇信' } },
  { name: 'homophone plus sign and V', text: '有问题+V信', hits: { 'op-001': '+V信' } },
  { name: 'homophone phrase vx', text: '+vx 私下说', hits: { 'op-001': '+vx' } },
  { name: 'homophone phrase for QQ', text: '加扣扣吧', hits: { 'op-009': '加扣扣' } },
  { name: 'variant spelling 转帐', text: '私下轉帳給我', hits: { 'pd-001': '私下轉帳' } },
  { name: 'private card', text: '直接转到我个人卡上', hits: { 'pd-002': '转到我个人卡' } },
  { name: 'kickback, longest phrase wins', text: '事成之后给你返点', hits: { 'kb-019': '给你返点' } },
  {
    name: 'illegal lending',
    text: '黑户可贷，不看征信，秒下款',
    hits: { 'il-008': '黑户可贷', 'il-012': '不看征信', 'il-003': '秒下款' },
  },
  {
    name: 'collection abuse',
    text: '再不还钱就爆你通讯录，通知你单位',
    hits: { 'ca-002': '爆你通讯录', 'ca-004': '通知你单位' },
  },
  {
    name: 'impersonation',
    text: '我是公安局的，请把钱转到安全账户',
    hits: { 'im-001': '我是公安局的', 'im-012': '安全账户' },
  },
  {
    name: '[REG-11] complaint cue and hotline',
    text: '我要投诉你们，已经打了12378',
    hits: { 'cp-002': '我要投诉', 'cp-003': '12378' },
  },
  {
    name: '[REG-04] ID number',
    text: '身份证号110101199003074514',
    hits: { 'pi-001': '身份证号', 'pi-025': '110101199003074514' },
  },
  {
    name: '[REG-04] card number with spaces',
    text: '卡 6222 0212 3456 7890 123',
    hits: { 'pi-026': '6222 0212 3456 7890 123' },
  },
  {
    name: '[REG-04] mobile number in Chinese numerals',
    text: '打一三八一二三四五六七八',
    hits: { 'pi-027': '一三八一二三四五六七八' },
  },
  { name: 'annual yield of 8% or more', text: '年化收益可达 8.5%', hits: { 'gr-059': '年化收益可达 8.5%' } },
  { name: 'proximity 保证 … 收益', text: '我保证这个产品收益没问题', hits: { 'gr-055': '保证这个产品收益' } },
  { name: 'proximity, the other order', text: '收益这块我保证', hits: { 'gr-055': '收益这块我保证' } },
  {
    name: 'a clause break ends a negation: 不会吧，稳赚不赔',
    text: '不会吧，稳赚不赔的',
    hits: { 'gr-006': '稳赚不赔' },
  },
];

export const NEGATIONS: CorpusCase[] = [
  { name: '不保本', text: '这款产品不保本', hits: {} },
  { name: '不承诺保本', text: '我们不承诺保本', hits: {} },
  { name: '请勿私下转账', text: '请勿私下转账', hits: {} },
  { name: '我们不收取任何加急费', text: '我们不收取任何加急费', hits: {} },
  { name: '非保本', text: '本产品为非保本浮动收益型', hits: {} },
  { name: '不保证收益', text: '理财有风险，不保证收益', hits: {} },
  { name: '收益不保证', text: '收益我们不保证', hits: {} },
  { name: 'a warning about codes', text: '谨防诈骗，不要把验证码告诉任何人', hits: {} },
  { name: '不要 before the hit', text: '千万不要私下转账给任何人', hits: {} },
  { name: '没有 before the hit', text: '世上没有稳赚不赔的投资', hits: {} },
  { name: 'negation with words between', text: '我们不会让您加私人微信', hits: {} },
  { name: '打破刚性兑付', text: '资管新规要求打破刚性兑付', hits: {} },
  { name: '无风险利率', text: '无风险利率目前约为2%', hits: {} },
];

export const NEUTRAL: CorpusCase[] = [
  { name: 'greeting', text: '您好，请问有什么可以帮您？', hits: {} },
  { name: 'bill', text: '您的信用卡账单已出，本期应还金额为 3,256.80 元，请于 15 日前还款。', hits: {} },
  {
    name: 'product disclosure',
    text: '这款理财产品的业绩比较基准为 2.85%，过往业绩不代表未来表现。',
    hits: {},
  },
  { name: 'opening hours', text: '我们的营业时间是周一到周五上午九点到下午五点。', hits: {} },
  { name: 'app', text: '请您通过手机银行App查看交易明细。', hits: {} },
  { name: 'risk profile', text: '您的风险测评结果是稳健型，可以购买R2及以下等级的产品。', hits: {} },
  { name: 'deposit rate', text: '大额存单三年期利率2.15%，起存金额20万。', hits: {} },
  { name: 'follow-up', text: '好的，我这边帮您登记一下，稍后有专人联系您。', hits: {} },
  { name: 'loan documents', text: '关于您的贷款申请，我们需要您提供收入证明。', hits: {} },
  { name: 'meeting time', text: '会议定在 2024-01-05 10:30，地点在三楼。', hits: {} },
  { name: '担保本金', text: '担保本金的事宜需要您到柜台办理', hits: {} },
  { name: 'the bank’s WeCom', text: '我们的企业微信号是 cz-bank，欢迎关注', hits: {} },
  { name: 'fees by contract', text: '手续费按照合同约定收取。', hits: {} },
  { name: '确保本人操作', text: '为了安全，请确保本人操作。', hits: {} },
  { name: 'disclaimer', text: '理财非存款，产品有风险，投资须谨慎。', hits: {} },
  {
    name: 'English',
    text: 'Please call our hotline if you have any questions about your account.',
    hits: {},
  },
  {
    name: 'English, pinyin-like words',
    text: 'The bao benefit plan and the hk office are described in the attachment.',
    hits: {},
  },
  { name: 'English, thanks', text: 'Thank you for banking with us, have a nice day!', hits: {} },
  { name: 'amounts and dates', text: '2024年3月15日转入 12,000.00 元，余额 35,600.12 元', hits: {} },
];
