import { useEffect, useState } from 'react';
import type { DeskData } from '../components/Detail.js';
import type { OperatorDesk } from '../sources/types.js';

/** While a drill-down is open, asks the server for bookings (and a station's sessions) every `everyMs`. */
export function useDeskData(desk: OperatorDesk | undefined, open: boolean, stationId: string | undefined, everyMs = 2_000): DeskData {
  const [data, setData] = useState<DeskData>({ fetchedAt: 0 });
  useEffect(() => {
    if (!open) return;
    if (!desk) {
      setData({ fetchedAt: Date.now(), error: 'no server to ask (drill-down shows what events told)' });
      return;
    }
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      const [bookings, sessions] = await Promise.allSettled([desk.listBookings(), stationId ? desk.listSessions(stationId) : Promise.resolve(undefined)]);
      if (!live) return;
      const failed = [bookings, sessions].find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      setData({
        fetchedAt: Date.now(),
        bookings: bookings.status === 'fulfilled' ? bookings.value : undefined,
        sessions: sessions.status === 'fulfilled' ? sessions.value : undefined,
        error: failed ? ((failed.reason as { details?: string }).details ?? (failed.reason as Error).message) : undefined,
      });
      timer = setTimeout(() => void poll(), everyMs);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [desk, open, stationId, everyMs]);
  return data;
}
