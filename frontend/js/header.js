// Loaded by every page: the navigation's current link and who is signed in.

import { initHeader } from "./session.js";

initHeader();
