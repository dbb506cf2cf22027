/**
 * ActiveMQ's virtual topics (`<virtualDestinationInterceptor>` `<virtualTopic>`):
 * a message sent to a topic the name matches is also copied to every queue
 * named prefix + topic + postfix that exists (`Consumer.A.VirtualTopic.Orders`
 * for `VirtualTopic.Orders`), so each consuming application gets queue
 * semantics of its own.
 */
export interface VirtualTopicConfig {
  /** Topics that are virtual: a name or wildcard (ActiveMQ default `VirtualTopic.>`). */
  name: string;
  /** Consumer queue prefix, `*` for one name part (default `Consumer.*.`). */
  prefix: string;
  postfix: string;
  /** Copy to a consumer queue only when one of its consumers' selectors takes the message. */
  selectorAware: boolean;
  /** Messages that came over a network bridge are not copied (each broker's own producers only). */
  local: boolean;
}

export const DEFAULT_VIRTUAL_TOPIC: Readonly<VirtualTopicConfig> = { name: 'VirtualTopic.>', prefix: 'Consumer.*.', postfix: '', selectorAware: false, local: false };
