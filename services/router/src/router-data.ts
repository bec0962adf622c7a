/**
 * The router's data files, loaded at start: the routing policy and the price table, each
 * validated, a bad one stopping the service with its variable named.
 */
import { ConfigError, isMaestroError } from '@maestro/runtime';
import { defaultPriceTable, loadPriceTable, type PriceTable } from '@maestro/llm';
import type { RouterConfig } from './config.js';
import { defaultRoutingPolicy, loadRoutingPolicy, type RoutingPolicy } from './domain/routing-policy.js';

/** The policy and prices the router decides and accounts by. */
export interface RouterData {
  policy: RoutingPolicy;
  prices: PriceTable;
}

/** Loads both files (or the defaults); throws a `ConfigError` naming each bad variable. */
export function loadRouterData(config: Pick<RouterConfig, 'routingPolicyPath' | 'priceTablePath'>): RouterData {
  const problems: Array<{ variable: string; problem: string }> = [];
  const attempt = <T>(variable: string, load: () => T, fallback: T): T => {
    try {
      return load();
    } catch (err) {
      if (!isMaestroError(err)) throw err;
      problems.push({ variable, problem: err.message });
      return fallback;
    }
  };
  const policy = config.routingPolicyPath === '' ? defaultRoutingPolicy : attempt('MAESTRO_ROUTING_POLICY_PATH', () => loadRoutingPolicy(config.routingPolicyPath), defaultRoutingPolicy);
  const prices = config.priceTablePath === '' ? defaultPriceTable : attempt('MAESTRO_PRICE_TABLE_PATH', () => loadPriceTable(config.priceTablePath), defaultPriceTable);
  if (problems.length > 0) throw new ConfigError(problems);
  return { policy, prices };
}
