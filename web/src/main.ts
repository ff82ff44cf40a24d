import { createApp } from 'vue'
import App from './App.vue'
import './styles/tokens.css'
import './styles/base.css'
import './styles/forms.css'
import './styles/spinner.css'
import './styles/picture.css'
import './styles/toolstrip.css'

createApp(App).mount('#app')
