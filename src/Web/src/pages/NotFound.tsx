import { Link } from 'react-router';
import { EmptyState } from '@/components/ui/feedback';
import { Button } from '@/components/ui/button';

export default function NotFound() {
  return (
    <>
      <h1 className="sr-only">Page not found</h1>
      <EmptyState title="Page not found" action={<Button asChild variant="secondary"><Link to="/">Go to the dashboard</Link></Button>}>
        There is nothing at this address.
      </EmptyState>
    </>
  );
}
