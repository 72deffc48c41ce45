/* rules.c: the rule registry. Registering a rule is one line here. */
#include "detect/rule.h"

extern const struct rule rule_dns_port_unreachable;
extern const struct rule rule_dns_admin_prohibited;

const struct rule *const detect_rules[] = {
    &rule_dns_port_unreachable,
    &rule_dns_admin_prohibited,
};

const size_t detect_n_rules = sizeof detect_rules / sizeof detect_rules[0];
