// Initialise GOV.UK Frontend and MoJ Frontend components (the only script on most pages).
import { initAll as govukInitAll } from '/static/build/govuk/govuk-frontend.min.js'
import { initAll as mojInitAll } from '/static/build/moj/moj-frontend.min.js'

govukInitAll()
mojInitAll()
