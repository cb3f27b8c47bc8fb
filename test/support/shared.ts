import { afterAll, beforeAll } from 'vitest';

/**
 * A resource every test of a file shares: started in beforeAll, stopped in afterAll. The returned
 * object stands for it (calls and reads go to the started resource), so it can be used inside
 * tests only.
 */
export function sharedResource<T extends object>(
  what: string,
  start: () => Promise<T>,
  stop: (resource: T) => Promise<void>,
): T {
  let resource: T | undefined;
  beforeAll(async () => {
    resource = await start();
  });
  afterAll(async () => {
    if (resource) await stop(resource);
  });
  return new Proxy({} as T, {
    get(_target, key) {
      if (!resource) throw new Error(`the shared ${what} starts in beforeAll: use it inside tests`);
      const value: unknown = Reflect.get(resource, key);
      return typeof value === 'function' ? value.bind(resource) : value;
    },
  });
}
