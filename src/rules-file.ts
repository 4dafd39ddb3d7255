/** The rules file of a configuration, read once: a bad one stops the start in one line. */
import { ConfigError, type GatewayConfig } from './config.js';
import { loadRules, type RulesConfig } from './sync/permissions.js';

export function rulesOf(config: GatewayConfig): RulesConfig {
  try {
    return loadRules(config.rulesFile ?? undefined);
  } catch (error) {
    throw new ConfigError(`--rules / RULES_FILE: ${(error as Error).message}`);
  }
}
