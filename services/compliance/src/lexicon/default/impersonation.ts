import { entriesOf } from './entry';

/** 冒充公检法、监管机构或他人，电信诈骗话术（REG-10） */
const { term } = entriesOf('impersonation', ['REG-10']);

export const IMPERSONATION = [
  term('im-001', '我是公安局的', 'critical', '冒充公安机关，电信诈骗典型话术'),
  term('im-002', '我是警察', 'critical', '冒充警察，电信诈骗典型话术'),
  term('im-003', '我是银保监会的', 'critical', '冒充监管机构，电信诈骗典型话术'),
  term('im-004', '我是银监会的', 'critical', '冒充监管机构，电信诈骗典型话术'),
  term('im-005', '我是证监会的', 'critical', '冒充监管机构，电信诈骗典型话术'),
  term('im-006', '我是人民银行的', 'critical', '冒充人民银行，电信诈骗典型话术'),
  term('im-007', '我是央行的', 'critical', '冒充人民银行，电信诈骗典型话术'),
  term('im-008', '我是金融监管局的', 'critical', '冒充监管机构，电信诈骗典型话术'),
  term('im-009', '我是法院的', 'critical', '冒充法院，电信诈骗典型话术'),
  term('im-010', '我是检察院的', 'critical', '冒充检察院，电信诈骗典型话术'),
  term('im-011', '公检法', 'warning', '提及公检法，需复核是否冒充'),
  term('im-012', '安全账户', 'critical', '“安全账户”是冒充公检法诈骗的标志性话术'),
  term('im-013', '资金清查', 'critical', '以“资金清查”为由要求转账，诈骗话术'),
  term('im-014', '涉嫌洗钱', 'critical', '以“涉嫌洗钱”恐吓客户，诈骗话术'),
  term('im-015', '涉嫌犯罪', 'warning', '以涉嫌犯罪恐吓客户，需复核'),
  term('im-016', '通缉令', 'critical', '出示“通缉令”恐吓客户，诈骗话术'),
  term('im-017', '逮捕令', 'critical', '出示“逮捕令”恐吓客户，诈骗话术'),
  term('im-018', '配合调查', 'warning', '要求客户“配合调查”，需复核是否冒充'),
  term('im-019', '保密调查', 'critical', '要求客户对“调查”保密，诈骗话术'),
  term('im-020', '不要告诉任何人', 'critical', '要求客户对转账保密，诈骗典型话术', { negatable: false }),
  term('im-021', '屏幕共享', 'critical', '诱导客户开启屏幕共享，诈骗典型手段'),
  term('im-022', '远程协助', 'warning', '诱导客户开启远程协助，需复核'),
  term('im-023', '注销校园贷', 'critical', '“注销校园贷”是诈骗典型话术'),
  term('im-024', '消除不良记录', 'critical', '承诺消除征信不良记录，诈骗或违规中介'),
  term('im-025', '征信修复', 'critical', '“征信修复”是诈骗或违规中介话术'),
  term('im-026', '修复征信', 'critical', '“修复征信”是诈骗或违规中介话术'),
  term('im-027', '冒充', 'warning', '提及冒充，需复核'),
];
