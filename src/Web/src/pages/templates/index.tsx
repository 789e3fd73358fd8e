// Templates and workflows: lists, details (graph summary, versions), run with variables.
import { lazy, Suspense } from 'react';
import { Route, Routes } from 'react-router';
import { Loading } from '@/components/ui/feedback';
import TemplatesHome from './TemplatesHome';

const TemplateDetail = lazy(() => import('./TemplateDetail'));
const WorkflowDetail = lazy(() => import('./WorkflowDetail'));

export default function TemplatesRoutes() {
  return (
    <Suspense fallback={<Loading />}>
      <Routes>
        <Route index element={<TemplatesHome />} />
        <Route path="workflows/:id" element={<WorkflowDetail />} />
        <Route path=":id" element={<TemplateDetail />} />
      </Routes>
    </Suspense>
  );
}
