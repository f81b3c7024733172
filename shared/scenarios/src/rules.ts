/** The four seed analytics the scenarios exercise; the slugs are the rule files' names. */
export const RULE_SLUGS = [
  'car-2014-11-005-remote-registry',
  'splunk-windows-service-creation-using-registry-entry',
  'elastic-potential-remote-credential-access-via-registry',
  'splunk-remcos-client-registry-install-entry',
] as const;

export type RuleSlug = (typeof RULE_SLUGS)[number];

export const REMOTE_REGISTRY: RuleSlug = 'car-2014-11-005-remote-registry';
export const SERVICE_CREATION: RuleSlug = 'splunk-windows-service-creation-using-registry-entry';
export const REMOTE_CREDENTIAL_ACCESS: RuleSlug = 'elastic-potential-remote-credential-access-via-registry';
export const REMCOS: RuleSlug = 'splunk-remcos-client-registry-install-entry';
