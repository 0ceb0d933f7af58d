import { berthApp } from './berth-app.ts';

berthApp().app.synth();
