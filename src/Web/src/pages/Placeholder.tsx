import { Construction } from 'lucide-react';
import { Link } from 'react-router';
import { EmptyState, PageHeader } from '@/components/ui/feedback';
import { Button } from '@/components/ui/button';

/**
 * PLACEHOLDER route for pages another branch builds (Templates, Schedules, Usage & billing, Settings). Replace the
 * <Route element={<Placeholder/>}> in src/App.tsx with the real page; the nav entry is in components/layout/nav.ts.
 */
export default function Placeholder({ title }: { title: string }) {
  return (
    <>
      <PageHeader title={title} />
      <EmptyState title="Coming soon" icon={<Construction className="size-8" />} action={<Button asChild variant="secondary"><Link to="/">Back to the dashboard</Link></Button>}>
        This part of the web app is not built yet. Everything here is already available through the API (see the API guide).
      </EmptyState>
    </>
  );
}
