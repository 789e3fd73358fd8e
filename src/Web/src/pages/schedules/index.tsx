// Schedules: list, create and edit (cron, time zone, workflow, variables, enabled), delete; the next runs as the API computes them.
import { Route, Routes } from 'react-router';
import ScheduleList from './ScheduleList';
import ScheduleEdit from './ScheduleEdit';

export default function SchedulesRoutes() {
  return (
    <Routes>
      <Route index element={<ScheduleList />} />
      <Route path="new" element={<ScheduleEdit />} />
      <Route path=":id" element={<ScheduleEdit />} />
    </Routes>
  );
}
