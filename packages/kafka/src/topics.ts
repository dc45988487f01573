import { AREAS, definitionOf, type Area } from '@crm-ledger/events';

/**
 * How events map to topics:
 * - `per-area` (default): one topic per area of the catalogue, `<prefix>.relationship`, `<prefix>.revenue`,
 *   `<prefix>.service`, `<prefix>.success`, `<prefix>.experience`, `<prefix>.signals` (issue #16): a consumer reads
 *   only the area it needs;
 *   order is kept per customer within an area;
 * - `single`: one topic `<prefix>.events` with every event: order is kept per customer across all areas.
 */
export type TopicLayout = 'per-area' | 'single';

export interface TopicConfig {
  /** Prefix of every topic name, e.g. `crm` (tests use a unique prefix each). */
  readonly prefix: string;
  readonly layout: TopicLayout;
}

export const DEFAULT_TOPICS: TopicConfig = { prefix: 'crm', layout: 'per-area' };

/** The topic that holds the events of an area. */
export function topicOfArea(config: TopicConfig, area: Area): string {
  return config.layout === 'single' ? `${config.prefix}.events` : `${config.prefix}.${area}`;
}

/** The topic of an event type, or undefined for a type the catalogue does not know. */
export function topicOfType(config: TopicConfig, type: string): string | undefined {
  const def = definitionOf(type);
  return def === undefined ? undefined : topicOfArea(config, def.area);
}

/** Every topic of a layout: what the relay creates and what a consumer of everything subscribes to. */
export function allTopics(config: TopicConfig): string[] {
  return config.layout === 'single' ? [`${config.prefix}.events`] : AREAS.map((a) => topicOfArea(config, a));
}
