import { useCallback, useEffect, useRef, useState } from 'react';
import { CLOSE_UNAUTHORIZED, type ActionResultMsg, type ClientMsg, type ServerMsg } from '../../src/web/protocol.js';
import { applyDelta, fromSnapshot, type FleetModel } from './model.js';

/** An operator action as the page sends it (the hub adds nothing; the id is filled in here). */
export type Action = DistributiveOmit<Exclude<ClientMsg, { type: 'auth' }>, 'id'>;
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

export type HubState = { phase: 'login'; error?: string } | { phase: 'connecting' } | { phase: 'live'; model: FleetModel } | { phase: 'lost'; model?: FleetModel; error: string };

/** The token from the URL fragment (`#token=…`), removed from the address bar once read. */
export function takeFragmentToken(): string | undefined {
  const m = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!m) return undefined;
  history.replaceState(null, '', window.location.pathname + window.location.search);
  return decodeURIComponent(m[1]!);
}

/**
 * One WebSocket to `/ws`: the token as the first message (never in the URL or a cookie), then a
 * snapshot and deltas. Reconnects after a loss with the same token; a refused token returns to login.
 */
export function useHub(initialToken: string | undefined) {
  const [token, setToken] = useState(initialToken);
  const [state, setState] = useState<HubState>(initialToken ? { phase: 'connecting' } : { phase: 'login' });
  const ws = useRef<WebSocket | undefined>(undefined);
  const pending = useRef(new Map<string, (r: ActionResultMsg) => void>());
  const [lastAction, setLastAction] = useState<ActionResultMsg>();

  useEffect(() => {
    if (!token) return;
    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const open = () => {
      const sock = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
      ws.current = sock;
      sock.onopen = () => sock.send(JSON.stringify({ type: 'auth', token }));
      sock.onmessage = (ev) => {
        const msg = JSON.parse(String(ev.data)) as ServerMsg;
        if (msg.type === 'snapshot') setState({ phase: 'live', model: fromSnapshot(msg) });
        else if (msg.type === 'delta') setState((s) => (s.phase === 'live' ? { phase: 'live', model: applyDelta(s.model, msg) } : s));
        else if (msg.type === 'auth_failed') {
          stopped = true;
          setToken(undefined);
          setState({ phase: 'login', error: `refused: ${msg.reason}` });
        } else if (msg.type === 'action_result') {
          setLastAction(msg);
          pending.current.get(msg.id)?.(msg);
          pending.current.delete(msg.id);
        }
      };
      sock.onclose = (ev) => {
        if (stopped || ev.code === CLOSE_UNAUTHORIZED) return;
        setState((s) => ({ phase: 'lost', model: s.phase === 'live' ? s.model : undefined, error: `connection lost (${ev.code}); reconnecting…` }));
        retry = setTimeout(open, 2_000);
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      ws.current?.close();
    };
  }, [token]);

  const login = useCallback((t: string) => {
    setState({ phase: 'connecting' });
    setToken(t);
  }, []);

  /** Sends an operator action and resolves with the server's answer. */
  const act = useCallback(
    (req: Action) =>
      new Promise<ActionResultMsg>((resolve) => {
        const id = Math.random().toString(36).slice(2);
        pending.current.set(id, resolve);
        ws.current?.send(JSON.stringify({ ...req, id }));
      }),
    [],
  );

  return { state, login, act, lastAction };
}
