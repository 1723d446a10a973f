import { entriesOf } from './entry';

/** 返点、回扣、好处费与个人返现（REG-03） */
const { term, allow } = entriesOf('kickback', ['REG-03']);

export const KICKBACK = [
  term('kb-001', '返点', 'critical', '承诺或索要返点，属于商业贿赂或不当利益输送'),
  term('kb-002', '回扣', 'critical', '回扣属于商业贿赂'),
  term('kb-003', '好处费', 'critical', '好处费属于商业贿赂或私下收费'),
  term('kb-004', '返现给你', 'critical', '向客户个人返现，属于不正当利益输送'),
  term('kb-005', '返现给你个人', 'critical', '向客户个人返现，属于不正当利益输送'),
  term('kb-006', '返佣', 'critical', '返佣给个人，可能构成商业贿赂'),
  term('kb-007', '回佣', 'critical', '回佣给个人，可能构成商业贿赂'),
  term('kb-008', '返利给你', 'critical', '向客户个人返利，不正当利益输送'),
  term('kb-009', '佣金分你', 'critical', '与他人分佣金，疑似商业贿赂'),
  term('kb-010', '提成分你', 'critical', '与他人分提成，疑似商业贿赂'),
  term('kb-011', '分你一半', 'warning', '利益分成的表述，需复核是否为贿赂或私下交易'),
  term('kb-012', '给你好处', 'critical', '以好处换取业务，疑似商业贿赂'),
  term('kb-013', '感谢费', 'critical', '收取或给予感谢费，疑似贿赂'),
  term('kb-014', '人情费', 'critical', '收取或给予人情费，疑似贿赂'),
  term('kb-015', '介绍费', 'warning', '个人之间的介绍费，需复核是否违规'),
  term('kb-016', '喝茶钱', 'critical', '“喝茶钱”是贿赂的委婉说法'),
  term('kb-017', '烟酒钱', 'critical', '“烟酒钱”是贿赂的委婉说法'),
  term('kb-018', '返你几个点', 'critical', '向客户承诺返点'),
  term('kb-019', '给你返点', 'critical', '向客户承诺返点'),
  term('kb-020', '返两个点', 'critical', '向客户承诺返点'),
  term('kb-021', '返三个点', 'critical', '向客户承诺返点'),
  term('kb-022', '私下返还', 'critical', '私下返还费用或收益，不正当利益输送'),
  term('kb-023', '送你购物卡', 'warning', '以购物卡等礼品吸引客户，可能违反营销规定'),
  allow('kb-a01', '不收回扣', '合规声明'),
  allow('kb-a02', '拒绝回扣', '合规声明'),
];
