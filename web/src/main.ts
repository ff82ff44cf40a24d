import { createApp } from 'vue'
import App from './App.vue'
import './styles/tokens.css'
import './styles/base.css'
import './styles/forms.css'
import './styles/spinner.css'

createApp(App).mount('#app')
