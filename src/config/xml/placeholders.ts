import { basename, dirname, join, resolve } from 'node:path';

/**
 * The directories ActiveMQ's start script sets as system properties, which
 * activemq.xml files use as `${activemq.base}`, `${activemq.data}`…: from
 * ACTIVEMQ_HOME / ACTIVEMQ_BASE / ACTIVEMQ_CONF / ACTIVEMQ_DATA when set;
 * otherwise the base is the folder that holds the file's `conf` folder (or
 * the file's own folder), conf and data below it, as the script defaults
 * them.
 */
export function activemqProperties(file: string, env: NodeJS.ProcessEnv): Map<string, string> {
  const folder = dirname(resolve(file));
  const base = resolve(env.ACTIVEMQ_BASE ?? (basename(folder) === 'conf' ? dirname(folder) : folder));
  return new Map([
    ['activemq.home', resolve(env.ACTIVEMQ_HOME ?? base)],
    ['activemq.base', base],
    ['activemq.conf', resolve(env.ACTIVEMQ_CONF ?? join(base, 'conf'))],
    ['activemq.data', resolve(env.ACTIVEMQ_DATA ?? join(base, 'data'))],
  ]);
}

/**
 * Replaces `${name}` and Spring's `${name:default}` from the properties,
 * then the environment; the names it could not resolve are returned, for the
 * caller to report with the file and line.
 */
export function resolvePlaceholders(text: string, properties: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): { value: string; unresolved: string[] } {
  const unresolved: string[] = [];
  const value = text.replace(/\$\{([^}:]+)(?::([^}]*))?\}/g, (whole, name: string, fallback: string | undefined) => {
    const found = properties.get(name) ?? env[name] ?? fallback;
    if (found === undefined) unresolved.push(name);
    return found ?? whole;
  });
  return { value, unresolved };
}
