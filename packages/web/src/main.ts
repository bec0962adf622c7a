/**
 * The viewer's entry: the router over the runs list and a run's page, mounted on #app.
 */
import '@vue-flow/core/dist/style.css';
import './styles.css';
import { createApp } from 'vue';
import App from './App.vue';
import { createViewerRouter } from './router';

createApp(App).use(createViewerRouter()).mount('#app');
